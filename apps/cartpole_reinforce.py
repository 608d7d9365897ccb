"""Train REINFORCE on CartPole-v1 with mytorch and evaluate the deterministic policy.

Monte Carlo policy gradient: the policy (MLP 64-64, tanh) plays whole episodes, and after
every 4 it takes one Adam step (lr 1e-3, annealed linearly to 0) on
``-mean_t (G_t - V(s_t)) log pi(a_t | s_t)`` with the discounted returns-to-go ``G_t``
(gamma 0.99), the learned baseline ``V`` (a separate critic MLP trained on the same step by
``(G_t - V(s_t))^2``; ``--no-baseline`` uses ``G_t`` alone) and the batch's advantages
standardized; gradient-norm clipping at 0.5. An episode cut by CartPole's 500-step limit is
truncated, not terminal: its returns bootstrap from the baseline's value of the last state.

Expected result with the defaults (150,000 environment steps, half the 300,000 budget): mean
returns of 500.0, 493.8 and 500.0 over 20 deterministic evaluation episodes for seeds 0, 1
and 2 (training runs on to the end of the episode that crosses the budget: 150,387-151,151
steps), in 86-102 s of wall time and 21-24 s of CPU on 2 CPU cores shared with other work.

Run:
    uv run apps/cartpole_reinforce.py                           # defaults
    uv run apps/cartpole_reinforce.py --seed 1 --total-timesteps 200000
    uv run apps/cartpole_reinforce.py --resume                  # continue a stopped run
    uv run apps/cartpole_reinforce.py --help                    # every option

Writes to ``--out`` (default runs/cartpole_reinforce): checkpoint.safetensors (networks, optimizer,
counters, episode history, random states; saved every ``--checkpoint-every`` iterations) and
returns.png (the return of every training episode and its running mean). ``--resume``
continues from the checkpoint; the environments start fresh episodes there.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import tyro
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.rl import Reinforce, ReinforceConfig, evaluate

ENV_ID = "CartPole-v1"


@dataclass
class Args:
    seed: int = 0  # seeds the weights, the environments, their action spaces and minibatches
    total_timesteps: int = 150_000  # environment steps in all (whole episodes)
    learning_rate: float = 1e-3  # Adam's initial learning rate
    anneal_lr: bool = True  # decay the learning rate linearly to 0
    gamma: float = 0.99  # discount
    episodes_per_update: int = 4  # whole episodes per gradient step
    baseline: bool = True  # learn V(s) and use G - V(s) as the advantage
    normalize_advantages: bool = True  # standardize each batch's advantages
    ent_coef: float = 0.0  # entropy bonus
    max_grad_norm: float = 0.5  # gradient-norm clipping
    eval_episodes: int = 20  # deterministic episodes of the final evaluation
    out: str = "runs/cartpole_reinforce"  # where the checkpoint and the figure go
    resume: bool = False  # continue from <out>/checkpoint.safetensors if it exists
    checkpoint_every: int = 100  # updates between checkpoints
    threads: int = 1  # BLAS threads; 1 is fastest for these small networks


DESCRIPTION = __doc__.splitlines()[0]
CLI = (tyro.conf.FlagCreatePairsOff,)  # a bool gets one flag: --resume, not also --no-resume


def parse_args(argv: list[str] | None = None) -> Args:
    """``Args`` from the command line (``--help`` lists every flag with its default)."""
    return tyro.cli(Args, args=argv, description=DESCRIPTION, config=CLI)


def stop_if_diverged(
    loss: float | None, last: float | None, where: str, model: nn.Module | None = None
) -> float | None:
    """``loss`` when it (and ``model``'s weights, if given) is finite; else the run ends here
    with a message, before the diverged weights are stepped on or saved."""
    if loss is not None and not math.isfinite(loss):
        what = f"the training loss became {loss}"
    elif model is not None and not all(mt.isfinite(p).all().item() for p in model.parameters()):
        what = "the weights became NaN or infinite"
    else:
        return loss
    before = f"last finite loss {last:.4f}" if last is not None else "no finite loss before it"
    sys.exit(
        f"error: {what} at {where} ({before}); stopped without saving a checkpoint of these weights "
        "(try a smaller --learning-rate)"
    )


def make_config(args: Args) -> ReinforceConfig:
    return ReinforceConfig(
        learning_rate=args.learning_rate,
        anneal_lr=args.anneal_lr,
        gamma=args.gamma,
        episodes_per_update=args.episodes_per_update,
        baseline=args.baseline,
        normalize_advantages=args.normalize_advantages,
        ent_coef=args.ent_coef,
        max_grad_norm=args.max_grad_norm,
    )


def plot_returns(history: dict, title: str, path: Path) -> None:
    """Every training episode's return against the step it ended at, with a running mean."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import matplotlib.pyplot as plt

    steps, returns = np.asarray(history["step"]), np.asarray(history["return"])
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, returns, ".", ms=2, alpha=0.3, label="episode")
    if len(returns):
        k = min(20, len(returns))
        ax.plot(steps[k - 1 :], np.convolve(returns, np.ones(k) / k, "valid"), label=f"mean of {k}")
    ax.set(xlabel="environment step", ylabel="return", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(args: Args) -> None:
    threadpool_limits(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out / "checkpoint.safetensors"
    env = gym.make(ENV_ID)
    last_loss = None  # the last finite training loss

    def check_loss(loss: float, where: str) -> None:  # before every gradient step
        nonlocal last_loss
        last_loss = stop_if_diverged(loss, last_loss, where)

    algo = Reinforce(env, make_config(args), args.total_timesteps, args.seed, loss_check=check_loss)
    if args.resume and checkpoint_path.exists():
        algo.load_state_dict(nn.load(checkpoint_path)["algorithm"])
        print(f"resumed from {checkpoint_path} at step {algo.global_step}")
    elif args.resume:
        print(f"nothing to resume at {checkpoint_path}; starting from scratch")

    def save() -> None:  # atomic: an interrupted save keeps the previous checkpoint
        stop_if_diverged(last_loss, last_loss, f"env step {algo.global_step}", algo.agent)
        nn.save({"algorithm": algo.state_dict(), "args": asdict(args)}, checkpoint_path)

    start, cpu_start = time.time(), time.process_time()
    bar = tqdm(total=args.total_timesteps, initial=algo.global_step, unit="step", disable=None)
    while algo.global_step < args.total_timesteps:
        before = algo.global_step
        algo.train_iteration()
        bar.update(algo.global_step - before)
        bar.set_postfix(ret=f"{np.mean(algo.history['return'][-20:]):.1f}")
        if algo.updates % args.checkpoint_every == 0:
            save()
    bar.close()
    save()
    seconds, cpu_seconds = time.time() - start, time.process_time() - cpu_start
    plot_returns(algo.history, f"REINFORCE on {ENV_ID} (seed {args.seed})", out / "returns.png")
    print(f"figure: {out / 'returns.png'}; checkpoint: {checkpoint_path}")
    result = evaluate(algo.predict, ENV_ID, args.eval_episodes, seed=args.seed + 10_000)
    env.close()
    print(
        f"evaluation: mean return {result.mean:.1f} +- {result.std:.1f} over "
        f"{len(result.returns)} deterministic episodes ({algo.global_step} steps, "
        f"{seconds:.0f} s, {cpu_seconds:.0f} s CPU)"
    )


if __name__ == "__main__":
    main(parse_args())
