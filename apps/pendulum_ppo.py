"""Train PPO with a Gaussian policy on Pendulum-v1 (continuous actions) with mytorch.

The policy is a diagonal Gaussian: an MLP (64-64, tanh) gives the mean torque and a learned,
state-independent log standard deviation the spread; samples are clipped to [-2, 2] when sent
to the environment (the unclipped sample is what is trained on), and the evaluation uses the
mean. PPO (clipped objective, range 0.2) with GAE (gamma 0.9, lambda 0.95), 4 environments x
256 steps per rollout, 10 epochs of 16 minibatches of 64, Adam (lr 1e-3, annealed linearly to
0), advantage normalization, gradient-norm clipping at 0.5, no entropy bonus, running
normalization of observations and of rewards (by the std of the discounted return): the RL
Baselines3 Zoo's Pendulum-v1 hyperparameters without their state-dependent exploration and
with rollouts of 256 instead of 1024 steps (4x more updates: with 1024, seed 0 reaches only
-453.5; with 1024 and an initial log std of -1, -488.2). Pendulum never terminates; every
episode is truncated after 200 steps and its return bootstraps from the critic's value of the
final state.

Expected result with the defaults (200,000 environment steps): mean returns of -148.5, -164.2
and -159.4 over 20 deterministic evaluation episodes for seeds 0, 1 and 2 (median -159.4; a
uniformly random policy gets about -1217), in 275-323 s of wall time and 97-106 s of CPU on 2
CPU cores shared with other work.

Run:
    uv run apps/pendulum_ppo.py                           # defaults
    uv run apps/pendulum_ppo.py --seed 1 --total-timesteps 200000
    uv run apps/pendulum_ppo.py --resume                  # continue a stopped run
    uv run apps/pendulum_ppo.py --help                    # every option

Writes to ``--out`` (default runs/pendulum_ppo): checkpoint.safetensors (networks, optimizer,
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
from mytorch.rl import PPO, PPOConfig, evaluate, make_vec_env

ENV_ID = "Pendulum-v1"


@dataclass
class Args:
    seed: int = 0  # seeds the weights, the environments, their action spaces and minibatches
    total_timesteps: int = 200_000  # environment steps in all (whole rollouts)
    num_envs: int = 4  # parallel environments
    num_steps: int = 256  # steps per environment per rollout
    learning_rate: float = 1e-3  # Adam's initial learning rate
    anneal_lr: bool = True  # decay the learning rate linearly to 0
    gamma: float = 0.9  # discount
    gae_lambda: float = 0.95  # GAE's lambda
    num_minibatches: int = 16  # minibatches per epoch
    update_epochs: int = 10  # passes over each rollout
    norm_adv: bool = True  # standardize advantages per minibatch
    clip_coef: float = 0.2  # the surrogate's clipping range
    clip_vloss: bool = False  # clip the value update too
    ent_coef: float = 0.0  # entropy bonus
    vf_coef: float = 0.5  # value loss weight
    max_grad_norm: float = 0.5  # gradient-norm clipping
    log_std_init: float = 0.0  # initial log standard deviation of the policy
    normalize_obs: bool = True  # running normalization of observations
    normalize_reward: bool = True  # rewards scaled by the running std of the return
    eval_episodes: int = 20  # deterministic episodes of the final evaluation
    out: str = "runs/pendulum_ppo"  # where the checkpoint and the figure go
    resume: bool = False  # continue from <out>/checkpoint.safetensors if it exists
    checkpoint_every: int = 5  # iterations between checkpoints
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


def make_config(args: Args) -> PPOConfig:
    return PPOConfig(
        num_steps=args.num_steps,
        learning_rate=args.learning_rate,
        anneal_lr=args.anneal_lr,
        gamma=args.gamma,
        gae_lambda=args.gae_lambda,
        num_minibatches=args.num_minibatches,
        update_epochs=args.update_epochs,
        norm_adv=args.norm_adv,
        clip_coef=args.clip_coef,
        clip_vloss=args.clip_vloss,
        ent_coef=args.ent_coef,
        vf_coef=args.vf_coef,
        max_grad_norm=args.max_grad_norm,
        log_std_init=args.log_std_init,
        normalize_obs=args.normalize_obs,
        normalize_reward=args.normalize_reward,
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

    ppo = PPO(envs, make_config(args), args.total_timesteps, args.seed, loss_check=check_loss)
    if args.resume and checkpoint_path.exists():
        ppo.load_state_dict(nn.load(checkpoint_path)["algorithm"])
        print(f"resumed from {checkpoint_path} at step {ppo.global_step}")
    elif args.resume:
        print(f"nothing to resume at {checkpoint_path}; starting from scratch")

    def save() -> None:  # atomic: an interrupted save keeps the previous checkpoint
        stop_if_diverged(last_loss, last_loss, f"env step {ppo.global_step}", ppo.agent)
        nn.save({"algorithm": ppo.state_dict(), "args": asdict(args)}, checkpoint_path)

    start, cpu_start = time.time(), time.process_time()
    total = ppo.num_iterations * ppo.batch_size
    bar = tqdm(total=total, initial=ppo.global_step, unit="step", unit_scale=True, disable=None)
    while ppo.iteration < ppo.num_iterations:
        _, stats = ppo.train_iteration()
        bar.update(ppo.batch_size)
        recent = ppo.history["return"][-20:]
        bar.set_postfix(ret=f"{np.mean(recent):.1f}" if recent else "-", kl=f"{stats['kl']:.4f}")
        if ppo.iteration % args.checkpoint_every == 0:
            save()
    bar.close()
    save()
    seconds, cpu_seconds = time.time() - start, time.process_time() - cpu_start
    plot_returns(ppo.history, f"PPO on {ENV_ID} (seed {args.seed})", out / "returns.png")
    print(f"figure: {out / 'returns.png'}; checkpoint: {checkpoint_path}")
    result = evaluate(ppo.predict, ENV_ID, args.eval_episodes, seed=args.seed + 10_000)
    envs.close()
    print(
        f"evaluation: mean return {result.mean:.1f} +- {result.std:.1f} over "
        f"{len(result.returns)} deterministic episodes ({ppo.global_step} steps, "
        f"{seconds:.0f} s, {cpu_seconds:.0f} s CPU)"
    )


if __name__ == "__main__":
    main(parse_args())
