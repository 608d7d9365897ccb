"""Reinforcement-learning benchmark: the same PPO and DQN on CartPole-v1 written with PyTorch
and with mytorch, side by side.

    uv run python benchmarks/bench_rl.py [--rounds 3] [--ppo-steps 8192] [--dqn-steps 5000]

Both versions use the same environments (gymnasium SyncVectorEnv, same seeds), the same NumPy
rollout and replay buffers, schedules and episode bookkeeping from mytorch.rl; only the networks,
distributions, losses and optimizers differ (mytorch.rl's PPO and DQN classes against a
PyTorch transcription of their update steps, with the same architecture, initialization and
hyperparameters):

* PPO: the CartPole demo's defaults: actor and critic MLPs 4-64-64 (tanh), 8 environments x 32
  steps, 20 epochs over each 256-sample rollout, Adam lr 1e-3 annealed, gradient clipping 0.5.
* DQN: the CartPole demo's defaults: Q-network 4-256-256-2 (ReLU) and its target, batch 64,
  Adam lr 2.3e-3, Huber loss, 128 gradient steps every 256 environment steps after 1,000 steps
  of random play, gradient clipping 10.

Times are CPU seconds of this process (``time.process_time``), which a machine shared with
other work disturbs less than wall time; both run on one thread (BLAS variables set before
NumPy and torch are imported, ``torch.set_num_threads(1)``), alternating in rounds after a short warm-up run of each; the ratio
reported is the median over rounds of mytorch's time over PyTorch's. Target: at most 1.2x.

Measured with the defaults (3 rounds) on 2 CPU cores shared with other work, torch 2.13.0 CPU:
PPO 8,192 steps: PyTorch 2.24 s, mytorch 2.08 s CPU, ratio 0.94x; DQN 5,000 steps (about
2,000 gradient steps): PyTorch 6.46 s, mytorch 5.44 s CPU, ratio 0.88x. On networks this
small both libraries spend most of their time in per-call overhead, and PyTorch's per-op
dispatch costs about as much as mytorch's NumPy calls.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import numpy as np  # noqa: E402

from mytorch.rl import (  # noqa: E402
    DQN,
    PPO,
    DQNConfig,
    EpisodeTracker,
    LinearSchedule,
    PPOConfig,
    ReplayBuffer,
    RolloutBuffer,
    epsilon_greedy,
    final_observations,
    make_vec_env,
    normalize_advantages,
    seed_env,
)

PPO_CONFIG = PPOConfig(
    num_steps=32,
    learning_rate=1e-3,
    gamma=0.98,
    gae_lambda=0.8,
    num_minibatches=1,
    update_epochs=20,
    clip_vloss=False,
    ent_coef=0.0,
)
PPO_ENVS = 8
DQN_CONFIG = DQNConfig()
TARGET = 1.2
SQRT2 = float(np.sqrt(2))


# ---------------------------------------------------------------- PyTorch PPO
def torch_ppo(total_timesteps: int, seed: int) -> float:
    """PPO written with PyTorch; returns the mean return of the last 20 training episodes."""
    import torch
    import torch.nn as tnn

    cfg = PPO_CONFIG
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    def layer(n_in, n_out, std=SQRT2):
        lin = tnn.Linear(n_in, n_out)
        tnn.init.orthogonal_(lin.weight, std)
        tnn.init.constant_(lin.bias, 0.0)
        return lin

    critic = tnn.Sequential(layer(4, 64), tnn.Tanh(), layer(64, 64), tnn.Tanh(), layer(64, 1, 1.0))
    actor = tnn.Sequential(layer(4, 64), tnn.Tanh(), layer(64, 64), tnn.Tanh(), layer(64, 2, 0.01))
    params = list(critic.parameters()) + list(actor.parameters())
    opt = torch.optim.Adam(params, lr=cfg.learning_rate, eps=1e-5)
    envs = make_vec_env("CartPole-v1", PPO_ENVS)
    obs = seed_env(envs, seed)
    buf = RolloutBuffer(cfg.num_steps, PPO_ENVS, (4,))
    tracker, returns = EpisodeTracker(PPO_ENVS), []
    n_iter = total_timesteps // (cfg.num_steps * PPO_ENVS)

    def dist(x):
        return torch.distributions.Categorical(logits=actor(x), validate_args=False)

    for it in range(n_iter):
        for g in opt.param_groups:
            g["lr"] = (1.0 - it / n_iter) * cfg.learning_rate
        buf.reset()
        with torch.no_grad():
            for _ in range(cfg.num_steps):
                x = torch.from_numpy(np.asarray(obs, dtype=np.float32))
                d = dist(x)
                action = d.sample()
                log_prob, value = d.log_prob(action), critic(x).squeeze(-1)
                next_obs, r, term, trunc, infos = envs.step(action.numpy())
                returns += [ret for ret, _ in tracker.step(r, term, trunc)]
                final = None
                if trunc.any():
                    real = final_observations(next_obs, infos)[trunc]
                    final = np.zeros(PPO_ENVS, dtype=np.float32)
                    final[trunc] = critic(torch.from_numpy(real.astype(np.float32))).squeeze(-1)
                buf.add(
                    x.numpy(),
                    action.numpy(),
                    log_prob.numpy(),
                    r,
                    term,
                    trunc,
                    value.numpy(),
                    final,
                )
                obs = next_obs
            last = critic(torch.from_numpy(np.asarray(obs, np.float32))).squeeze(-1).numpy()
        buf.compute_returns_and_advantages(last, cfg.gamma, cfg.gae_lambda)
        for _ in range(cfg.update_epochs):
            for mb in buf.minibatches(buf.num_steps * PPO_ENVS // cfg.num_minibatches, rng):
                x = torch.from_numpy(mb["obs"])
                d = dist(x)
                new_lp = d.log_prob(torch.from_numpy(mb["actions"]))
                entropy = d.entropy().mean()
                ratio = (new_lp - torch.from_numpy(mb["log_probs"])).exp()
                adv = torch.from_numpy(normalize_advantages(mb["advantages"]))
                pg = torch.max(
                    -adv * ratio, -adv * ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)
                ).mean()
                v = 0.5 * (critic(x).squeeze(-1) - torch.from_numpy(mb["returns"])).pow(2).mean()
                loss = pg - cfg.ent_coef * entropy + cfg.vf_coef * v
                opt.zero_grad()
                loss.backward()
                tnn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                opt.step()
    return float(np.mean(returns[-20:]))


def mytorch_ppo(total_timesteps: int, seed: int) -> float:
    ppo = PPO(make_vec_env("CartPole-v1", PPO_ENVS), PPO_CONFIG, total_timesteps, seed).learn()
    return float(np.mean(ppo.history["return"][-20:]))


# ---------------------------------------------------------------- PyTorch DQN
def torch_dqn(total_timesteps: int, seed: int) -> float:
    """DQN written with PyTorch; returns the mean return of the last 20 training episodes."""
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF

    cfg = DQN_CONFIG
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)

    def qnet():
        return tnn.Sequential(
            tnn.Linear(4, 256), tnn.ReLU(), tnn.Linear(256, 256), tnn.ReLU(), tnn.Linear(256, 2)
        )

    q, target = qnet(), qnet()
    target.load_state_dict(q.state_dict())
    opt = torch.optim.Adam(q.parameters(), lr=cfg.learning_rate)
    envs = make_vec_env("CartPole-v1", 1)
    obs = seed_env(envs, seed)
    buf = ReplayBuffer(cfg.buffer_size, (4,))
    eps = LinearSchedule(cfg.start_e, cfg.end_e, int(cfg.exploration_fraction * total_timesteps))
    tracker, returns = EpisodeTracker(1), []
    for step in range(1, total_timesteps + 1):
        if step <= cfg.learning_starts:
            actions = rng.integers(0, 2, 1)
        else:
            with torch.no_grad():
                greedy = q(torch.from_numpy(np.asarray(obs, np.float32))).argmax(1).numpy()
            actions = epsilon_greedy(greedy, 2, eps(step - 1), rng)
        next_obs, r, term, trunc, infos = envs.step(actions)
        buf.add(obs, actions, r, final_observations(next_obs, infos), term)
        returns += [ret for ret, _ in tracker.step(r, term, trunc)]
        obs = next_obs
        if step > cfg.learning_starts:
            if step % cfg.train_frequency == 0:
                for _ in range(cfg.gradient_steps):
                    b = buf.sample(cfg.batch_size, rng)
                    with torch.no_grad():
                        nxt = target(torch.from_numpy(b.next_obs)).max(1)[0]
                        y = (
                            torch.from_numpy(b.rewards)
                            + cfg.gamma * (1 - torch.from_numpy(b.terminated)) * nxt
                        )
                    qa = (
                        q(torch.from_numpy(b.obs))
                        .gather(1, torch.from_numpy(b.actions).unsqueeze(1))
                        .squeeze(1)
                    )
                    loss = tF.huber_loss(qa, y)
                    opt.zero_grad()
                    loss.backward()
                    tnn.utils.clip_grad_norm_(q.parameters(), cfg.max_grad_norm)
                    opt.step()
            if step % cfg.target_network_frequency == 0:
                target.load_state_dict(q.state_dict())
    return float(np.mean(returns[-20:]))


def mytorch_dqn(total_timesteps: int, seed: int) -> float:
    dqn = DQN(make_vec_env("CartPole-v1", 1), DQN_CONFIG, total_timesteps, seed).learn()
    return float(np.mean(dqn.history["return"][-20:]))


def cpu_time(fn, *args) -> tuple[float, float]:
    start = time.process_time()
    result = fn(*args)
    return time.process_time() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ppo-steps", type=int, default=8192)
    parser.add_argument("--dqn-steps", type=int, default=5000)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    cases = {
        "PPO": (torch_ppo, mytorch_ppo, args.ppo_steps),
        "DQN": (torch_dqn, mytorch_dqn, args.dqn_steps),
    }
    for name, (t_fn, m_fn, steps) in cases.items():
        for fn in (t_fn, m_fn):  # warm-up: imports, first-call allocations, caches
            fn(1200, 99)
        ratios, t_times, m_times = [], [], []
        for r in range(args.rounds):
            order = [("torch", t_fn), ("mytorch", m_fn)]
            if r % 2:
                order.reverse()
            times = {}
            for lib, fn in order:
                times[lib], ret = cpu_time(fn, steps, r)
                print(
                    f"  {name} round {r} {lib:8s} {times[lib]:7.2f} s CPU, last-20 return {ret:.1f}",
                    flush=True,
                )
            t_times.append(times["torch"])
            m_times.append(times["mytorch"])
            ratios.append(times["mytorch"] / times["torch"])
        ratio = statistics.median(ratios)
        print(
            f"{name} {steps} steps: PyTorch {statistics.median(t_times):.2f} s, mytorch "
            f"{statistics.median(m_times):.2f} s CPU (medians of {args.rounds}); "
            f"mytorch/PyTorch {ratio:.2f}x (target <= {TARGET}x: "
            f"{'met' if ratio <= TARGET else 'NOT met'})",
            flush=True,
        )


if __name__ == "__main__":
    main()
