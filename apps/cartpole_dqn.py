"""Train DQN on CartPole-v1 with mytorch and evaluate the greedy policy.

DQN with a replay buffer of 100,000 transitions, a target network copied every 256
environment steps, the Huber loss and Adam (lr 2.3e-3, batch 64): after 1,000 steps of random
play, every 256 environment steps it takes 128 gradient steps; epsilon falls linearly from 1
to 0.04 over the first 16% of the steps. The Q-network is an MLP 4-256-256-2 with ReLU. These
are the RL Baselines3 Zoo's hyperparameters for CartPole-v1. ``--double-dqn`` picks the next
action with the online network (Double DQN); ``--prioritized`` samples transitions in
proportion to their TD error (with importance weights annealed to 1). A transition cut by
CartPole's 500-step limit is truncated, not terminal: its target bootstraps from the final
observation.

Expected result with the defaults (50,000 environment steps, half the 100,000 budget): mean
returns of 500.0, 500.0 and 245.6 over 20 greedy evaluation episodes for seeds 0, 1 and 2
(median 500.0). Seed 2 trained for the whole 100,000 steps reaches 295.9, and with
``--double-dqn`` 500.0 (but ``--double-dqn`` gives 500.0 and 117.5 on seeds 0 and 1). A run
takes 72-97 s of CPU (about 2.4 ms per gradient step of a batch of 64) and took 246-1184 s of
wall time on 2 CPU cores shared with other work.

Run:
    uv run apps/cartpole_dqn.py                           # defaults
    uv run apps/cartpole_dqn.py --double-dqn --seed 1
    uv run apps/cartpole_dqn.py --resume                  # continue a stopped run
    uv run apps/cartpole_dqn.py --help                    # every option

Writes to ``--out`` (default runs/cartpole_dqn): checkpoint.safetensors (networks, optimizer,
replay buffer, counters, episode history, random states; saved every ``--checkpoint-every``
steps) and returns.png (every training episode's return and its running mean). ``--resume``
continues from the checkpoint; the environment starts a fresh episode there.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro
from threadpoolctl import threadpool_limits
from tqdm import tqdm

import mytorch.core as mt
import mytorch.nn as nn
from mytorch.rl import DQN, DQNConfig, evaluate, make_vec_env

ENV_ID = "CartPole-v1"


@dataclass
class Args:
    seed: int = 0  # seeds the weights, the environment, exploration and replay sampling
    total_timesteps: int = 50_000  # environment steps in all
    learning_rate: float = 2.3e-3  # Adam's learning rate
    buffer_size: int = 100_000  # replay capacity in transitions
    gamma: float = 0.99  # discount
    batch_size: int = 64  # transitions per gradient step
    learning_starts: int = 1_000  # steps of uniformly random play before learning
    train_frequency: int = 256  # environment steps between training phases
    gradient_steps: int = 128  # gradient steps per training phase
    target_network_frequency: int = 256  # environment steps between target-network copies
    start_e: float = 1.0  # initial exploration rate
    end_e: float = 0.04  # final exploration rate
    exploration_fraction: float = 0.16  # fraction of the steps over which epsilon decays
    hidden: tuple[int, ...] = (256, 256)  # widths of the Q-network's hidden layers
    double_dqn: bool = False  # Double DQN targets
    prioritized: bool = False  # prioritized replay
    loss: Literal["huber", "mse"] = "huber"  # the loss on the TD errors
    eval_episodes: int = 20  # greedy episodes of the final evaluation
    out: str = "runs/cartpole_dqn"  # where the checkpoint and the figure go
    resume: bool = False  # continue from <out>/checkpoint.safetensors if it exists
    checkpoint_every: int = 10_000  # environment steps between checkpoints
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


def make_config(args: Args) -> DQNConfig:
    return DQNConfig(
        buffer_size=args.buffer_size,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        gamma=args.gamma,
        learning_starts=args.learning_starts,
        train_frequency=args.train_frequency,
        gradient_steps=args.gradient_steps,
        target_network_frequency=args.target_network_frequency,
        start_e=args.start_e,
        end_e=args.end_e,
        exploration_fraction=args.exploration_fraction,
        hidden=tuple(args.hidden),
        loss=args.loss,
        double_dqn=args.double_dqn,
        prioritized=args.prioritized,
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
    envs = make_vec_env(ENV_ID, num_envs=1)
    last_loss = None  # the last finite training loss

    def check_loss(loss: float, where: str) -> None:  # before every gradient step
        nonlocal last_loss
        last_loss = stop_if_diverged(loss, last_loss, where)

    dqn = DQN(envs, make_config(args), args.total_timesteps, args.seed, loss_check=check_loss)
    if args.resume and checkpoint_path.exists():
        dqn.load_state_dict(nn.load(checkpoint_path)["algorithm"])
        print(f"resumed from {checkpoint_path} at step {dqn.global_step}")
    elif args.resume:
        print(f"nothing to resume at {checkpoint_path}; starting from scratch")

    def save() -> None:  # atomic: an interrupted save keeps the previous checkpoint
        stop_if_diverged(last_loss, last_loss, f"env step {dqn.global_step}", dqn.q_network)
        nn.save({"algorithm": dqn.state_dict(), "args": asdict(args)}, checkpoint_path)

    start, cpu_start = time.time(), time.process_time()
    bar = tqdm(total=args.total_timesteps, initial=dqn.global_step, unit="step", disable=None)
    while dqn.global_step < args.total_timesteps:
        finished, losses = dqn.step()
        bar.update(envs.num_envs)
        if finished:
            recent = dqn.history["return"][-20:]
            bar.set_postfix(ret=f"{np.mean(recent):.1f}", eps=f"{dqn.epsilon(dqn.global_step):.2f}")
        if dqn.global_step % args.checkpoint_every == 0:
            save()
    bar.close()
    save()
    seconds, cpu_seconds = time.time() - start, time.process_time() - cpu_start
    plot_returns(dqn.history, f"DQN on {ENV_ID} (seed {args.seed})", out / "returns.png")
    print(f"figure: {out / 'returns.png'}; checkpoint: {checkpoint_path}")
    result = evaluate(dqn.predict, ENV_ID, args.eval_episodes, seed=args.seed + 10_000)
    envs.close()
    print(
        f"evaluation: mean return {result.mean:.1f} +- {result.std:.1f} over "
        f"{len(result.returns)} deterministic episodes ({dqn.global_step} steps, "
        f"{seconds:.0f} s, {cpu_seconds:.0f} s CPU)"
    )


if __name__ == "__main__":
    main(parse_args())
