"""Train A2C on CartPole-v1 with mytorch and evaluate the deterministic policy.

Synchronous advantage actor-critic: 8 environments step together (gymnasium's own
``SyncVectorEnv``; ``--asynchronous`` uses ``AsyncVectorEnv``), every 5 steps the policy takes
one gradient step on the 40 transitions with 5-step returns as targets (bootstrapped from the
critic at the rollout's end), an entropy bonus (``--ent-coef``) and a value loss, with RMSprop
(lr 3e-4, annealed linearly to 0; alpha 0.99, eps 1e-5) and gradient-norm clipping at 0.5.
Separate actor and critic MLPs (64-64, tanh, orthogonal initialization). These are the RL
Baselines3 Zoo's hyperparameters for CartPole-v1 except the learning rate (the zoo's constant
7e-4 learns as fast but its policy collapses and recovers during training: annealed from 7e-4
the seeds 0-2 end at 500.0, 468.4 and 222.2) and 200,000 steps instead of 500,000. Episodes
cut by CartPole's 500-step limit are truncated, not terminal: their returns bootstrap from the
critic's value of the last state.

Expected result with the defaults (200,000 environment steps, 40% of the 500,000 budget): mean
returns of 500.0, 469.1 and 496.9 over 20 deterministic evaluation episodes for seeds 0, 1
and 2 (median 496.9), in 34-71 s of wall time and 22-23 s of CPU on 2 shared CPU cores.
Training returns swing widely (A2C takes one small-batch step per 40 transitions); the
final policy is less certain than PPO's: a seed can end below 475.

Run:
    uv run apps/cartpole_a2c.py                           # defaults
    uv run apps/cartpole_a2c.py --seed 1 --total-timesteps 200000
    uv run apps/cartpole_a2c.py --resume                  # continue a stopped run
    uv run apps/cartpole_a2c.py --help                    # every option

Writes to ``--out`` (default runs/cartpole_a2c): checkpoint.safetensors (networks, optimizer,
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

import numpy as np
import tyro
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.rl import A2C, A2CConfig, evaluate, make_vec_env

ENV_ID = "CartPole-v1"


@dataclass
class Args:
    seed: int = 0  # seeds the weights, the environments, their action spaces and minibatches
    total_timesteps: int = 200_000  # environment steps in all (whole rollouts)
    num_envs: int = 8  # parallel environments
    num_steps: int = 5  # steps per environment per update: the n of the n-step returns
    learning_rate: float = 3e-4  # RMSprop's initial learning rate
    anneal_lr: bool = True  # decay the learning rate linearly to 0
    gamma: float = 0.99  # discount
    gae_lambda: float = 1.0  # 1 = n-step returns; less than 1: GAE(lambda) within the rollout
    norm_adv: bool = False  # standardize each rollout's advantages
    ent_coef: float = 0.0  # entropy bonus
    vf_coef: float = 0.5  # value loss weight
    max_grad_norm: float = 0.5  # gradient-norm clipping
    eval_episodes: int = 20  # deterministic episodes of the final evaluation
    out: str = "runs/cartpole_a2c"  # where the checkpoint and the figure go
    resume: bool = False  # continue from <out>/checkpoint.safetensors if it exists
    checkpoint_every: int = 1000  # iterations between checkpoints
    asynchronous: bool = False  # AsyncVectorEnv (one process per environment)
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


def make_config(args: Args) -> A2CConfig:
    return A2CConfig(
        num_steps=args.num_steps,
        learning_rate=args.learning_rate,
        anneal_lr=args.anneal_lr,
        gamma=args.gamma,
        gae_lambda=args.gae_lambda,
        norm_adv=args.norm_adv,
        ent_coef=args.ent_coef,
        vf_coef=args.vf_coef,
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
    envs = make_vec_env(ENV_ID, args.num_envs, asynchronous=args.asynchronous)
    last_loss = None  # the last finite training loss

    def check_loss(loss: float, where: str) -> None:  # before every gradient step
        nonlocal last_loss
        last_loss = stop_if_diverged(loss, last_loss, where)

    algo = A2C(envs, make_config(args), args.total_timesteps, args.seed, loss_check=check_loss)
    if args.resume and checkpoint_path.exists():
        algo.load_state_dict(nn.load(checkpoint_path)["algorithm"])
        print(f"resumed from {checkpoint_path} at step {algo.global_step}")
    elif args.resume:
        print(f"nothing to resume at {checkpoint_path}; starting from scratch")

    def save() -> None:  # atomic: an interrupted save keeps the previous checkpoint
        stop_if_diverged(last_loss, last_loss, f"env step {algo.global_step}", algo.agent)
        nn.save({"algorithm": algo.state_dict(), "args": asdict(args)}, checkpoint_path)

    start, cpu_start = time.time(), time.process_time()
    total = algo.num_iterations * algo.batch_size
    bar = tqdm(total=total, initial=algo.global_step, unit="step", unit_scale=True, disable=None)
    while algo.iteration < algo.num_iterations:
        _, stats = algo.train_iteration()
        bar.update(algo.batch_size)
        recent = algo.history["return"][-20:]
        bar.set_postfix(ret=f"{np.mean(recent):.1f}" if recent else "-", v=f"{stats['v']:.3f}")
        if algo.iteration % args.checkpoint_every == 0:
            save()
    bar.close()
    save()
    seconds, cpu_seconds = time.time() - start, time.process_time() - cpu_start
    plot_returns(algo.history, f"A2C on {ENV_ID} (seed {args.seed})", out / "returns.png")
    print(f"figure: {out / 'returns.png'}; checkpoint: {checkpoint_path}")
    result = evaluate(algo.predict, ENV_ID, args.eval_episodes, seed=args.seed + 10_000)
    envs.close()
    print(
        f"evaluation: mean return {result.mean:.1f} +- {result.std:.1f} over "
        f"{len(result.returns)} deterministic episodes ({algo.global_step} steps, "
        f"{seconds:.0f} s, {cpu_seconds:.0f} s CPU)"
    )


if __name__ == "__main__":
    main(parse_args())
