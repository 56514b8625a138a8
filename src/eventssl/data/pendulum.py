"""Synthetic "Pendulum coordinate" dataset of MLEM (arXiv 2401.15935, §Pendulum).

A damped pendulum of random length ``L`` is observed at the event times of a Hawkes process;
the features are the bob coordinates divided by ``L`` (``x = sin θ``, ``y = -cos θ``), so the
target ``L`` is identifiable only from the dynamics. Everything is vectorised over sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BLOCK_SIZE = 16384  # sequences integrated together: state arrays stay cache-sized
State = tuple[np.ndarray, ...]  # RK4 state (θ, sin θ, cos θ, θ'), each (B,)


@dataclass(frozen=True)
class PendulumSequences:
    """Flat event arrays + offsets (CSR layout): sequence i is events offsets[i]:offsets[i+1]."""

    time: np.ndarray  # (E,) float64 seconds, non-decreasing within each sequence, in [0, 5)
    offsets: np.ndarray  # (N + 1,) int64, offsets[0] == 0, strictly increasing (every length >= 1)
    x: np.ndarray  # (E,) float32, sin(theta)
    y: np.ndarray  # (E,) float32, -cos(theta)
    length: np.ndarray  # (N,) float64, the pendulum length L (regression target)
    theta0: np.ndarray  # (N,) float64
    omega0: np.ndarray  # (N,) float64


def _check_count(num_sequences: int) -> None:
    if isinstance(num_sequences, bool) or not isinstance(num_sequences, (int, np.integer)):
        raise ValueError(f"num_sequences must be an integer, got {num_sequences!r}")
    if num_sequences < 1:
        raise ValueError(f"num_sequences must be >= 1, got {num_sequences}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _thinning(
    pending: np.ndarray, counts: np.ndarray, rng: np.random.Generator, *params: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ogata thinning of ``pending`` in lockstep; ``params`` = (μ, α, β, T); updates ``counts``.

    Returns (sequence id, event time, rank of the event within its sequence), each (K,).
    """
    baseline, excitation, decay, horizon = params
    index = pending.copy()  # (A,) ids of the sequences still before the horizon
    clock = np.zeros(index.size)  # (A,) current time t
    excite = np.zeros(index.size)  # (A,) Σ_k exp(-decay (t - t_k)) over accepted t_k < t
    sequences, times, ranks = [], [], []
    while index.size:
        rate = baseline + excitation * excite  # (A,) λ(t), an upper bound until the next event
        candidate = clock + rng.standard_exponential(index.size) / rate  # (A,)
        alive = candidate < horizon  # (A,)
        index, clock, candidate = index[alive], clock[alive], candidate[alive]
        decayed = excite[alive] * np.exp(-decay * (candidate - clock))  # (A,)
        accept = rng.random(index.size) * rate[alive] < baseline + excitation * decayed  # (A,)
        accepted = index[accept]  # (K_step,) distinct ids, so the += below is safe
        sequences.append(accepted)
        times.append(candidate[accept])
        ranks.append(counts[accepted])
        counts[accepted] += 1
        clock, excite = candidate, decayed + accept
    return np.concatenate(sequences), np.concatenate(times), np.concatenate(ranks)


def simulate_hawkes(
    num_sequences: int,
    rng: np.random.Generator,
    baseline: float = 15.0,
    excitation: float = 0.2,
    decay: float = 1.0,
    horizon: float = 5.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Returns (times (E,) float64, offsets (N+1,) int64).

    Hawkes processes on [0, horizon) with intensity ``λ(t) = baseline + excitation *
    Σ_{t_k < t} exp(-decay (t - t_k))`` (MLEM, arXiv 2401.15935, §Pendulum), simulated by Ogata
    thinning for all sequences in lockstep. A sequence that ends empty (probability
    ``exp(-baseline * horizon)``, ~3e-33 by default) is re-simulated, so every length is >= 1.

    Args:
        num_sequences: Number N of independent sequences (>= 1).
        rng: Source of randomness.
        baseline: Background rate μ > 0 (events per second).
        excitation: Jump α >= 0 of the intensity after each event.
        decay: Decay rate β > 0 of the exponential kernel.
        horizon: Window length T > 0 (seconds).
    """
    _check_count(num_sequences)
    _check_positive(baseline=baseline, decay=decay, horizon=horizon)
    if not np.isfinite(excitation) or excitation < 0:
        raise ValueError(f"excitation must be a non-negative finite number, got {excitation!r}")
    counts = np.zeros(num_sequences, dtype=np.int64)  # (N,)
    pending = np.arange(num_sequences)  # (P,) sequences still to (re-)simulate
    parts = []
    while pending.size:
        parts.append(_thinning(pending, counts, rng, baseline, excitation, decay, horizon))
        pending = pending[counts[pending] == 0]
    sequence, time, rank = (np.concatenate(column) for column in zip(*parts, strict=True))
    offsets = np.zeros(num_sequences + 1, dtype=np.int64)  # (N+1,)
    np.cumsum(counts, out=offsets[1:])
    times = np.empty(offsets[-1])  # (E,)
    times[offsets[sequence] + rank] = time
    return times, offsets


def _rk4_step(state: State, stiffness: np.ndarray, friction: float, step: float) -> State:
    """One RK4 step of θ'' = -(b/m) θ' - (g/L) sin θ written for (θ, sin θ, cos θ, θ').

    The right-hand side is polynomial in that state, so no stage needs a sine evaluation.
    """

    def rates(theta: np.ndarray, sine: np.ndarray, cosine: np.ndarray, omega: np.ndarray) -> State:
        return omega, cosine * omega, -sine * omega, -friction * omega - stiffness * sine

    def shift(slopes: State, scale: float) -> State:
        return tuple(value + scale * slope for value, slope in zip(state, slopes, strict=True))

    slope1 = rates(*state)
    slope2 = rates(*shift(slope1, 0.5 * step))
    slope3 = rates(*shift(slope2, 0.5 * step))
    slope4 = rates(*shift(slope3, step))
    slopes = zip(slope1, slope2, slope3, slope4, strict=True)
    total = tuple(first + 2.0 * (second + third) + last for first, second, third, last in slopes)
    return shift(total, step / 6.0)


def _integrate_block(
    times: np.ndarray,  # (E_b,)
    offsets: np.ndarray,  # (B+1,)
    stiffness: np.ndarray,  # (B,) g / L
    state: State,  # (θ, sin θ, cos θ, θ') at t = 0
    friction: float,  # b / m
    step: float,
) -> np.ndarray:
    """θ at the events (E_b,) of one block: RK4 grid ``j * step`` + cubic Hermite in between."""
    owner = np.repeat(np.arange(stiffness.size), np.diff(offsets))  # (E_b,) sequence of event
    interval = (times / step).astype(np.int64)  # (E_b,) grid interval holding each event
    num_steps = int(interval.max()) + 1 if interval.size else 0
    key = interval.astype(np.uint16) if num_steps <= 1 << 16 else interval  # uint16: radix sort
    order = np.argsort(key, kind="stable")  # (E_b,) events grouped by interval
    bounds = np.zeros(num_steps + 1, dtype=np.int64)  # (S+1,) group j: order[bounds[j]:...]
    np.cumsum(np.bincount(interval, minlength=num_steps), out=bounds[1:])
    result = np.empty(times.size)  # (E_b,)
    for index in range(num_steps):
        following = _rk4_step(state, stiffness, friction, step)
        group = order[bounds[index] : bounds[index + 1]]  # (G,) events in this interval
        sequence = owner[group]  # (G,)
        fraction = times[group] / step - index  # (G,) position in [0, 1)
        squared, cubed = fraction**2, fraction**3
        result[group] = (
            (2.0 * cubed - 3.0 * squared + 1.0) * state[0][sequence]
            + (cubed - 2.0 * squared + fraction) * step * state[3][sequence]
            + (3.0 * squared - 2.0 * cubed) * following[0][sequence]
            + (cubed - squared) * step * following[3][sequence]
        )
        state = following
    return result


def integrate_pendulum(
    times: np.ndarray,
    offsets: np.ndarray,
    length: np.ndarray,
    theta0: np.ndarray,
    omega0: np.ndarray,
    damping: float = 0.5,
    mass: float = 1.0,
    gravity: float = 9.81,
    step: float = 2e-3,
) -> np.ndarray:
    """Angle theta (E,) float64 at every event time, starting from (theta0, omega0) at t = 0.

    Damped pendulum ``θ'' = -(b/m) θ' - (g/L) sin θ`` (MLEM, arXiv 2401.15935, §Pendulum):
    fixed-step RK4 on a grid shared by all sequences, cubic Hermite interpolation (θ and θ'
    are known at grid points) to the event times, memory O(N + E). ``times``/``offsets`` are
    in CSR layout; ``length``, ``theta0``, ``omega0`` have shape (N,).
    """
    times, length = np.asarray(times, np.float64), np.asarray(length, np.float64)
    theta0, omega0 = np.asarray(theta0, np.float64), np.asarray(omega0, np.float64)
    offsets = np.asarray(offsets, np.int64)
    _check_positive(mass=mass, gravity=gravity, step=step)
    if not np.isfinite(damping) or damping < 0:
        raise ValueError(f"damping must be a non-negative finite number, got {damping!r}")
    count = length.size
    if offsets.shape != (count + 1,) or offsets[0] != 0 or offsets[-1] != times.size:
        raise ValueError("offsets must have shape (N+1,), start at 0 and end at len(times)")
    if length.shape != (count,) or theta0.shape != (count,) or omega0.shape != (count,):
        raise ValueError("length, theta0 and omega0 must all have shape (N,)")
    if np.any(length <= 0) or np.any(times < 0) or np.any(np.diff(offsets) < 0):
        raise ValueError("length must be positive, times non-negative, offsets non-decreasing")
    theta, friction = np.empty(times.size), damping / mass  # (E,), b / m
    for start in range(0, count, _BLOCK_SIZE):
        part = slice(start, min(start + _BLOCK_SIZE, count))  # sequences of this block
        segment = slice(offsets[part.start], offsets[part.stop])  # their events
        local = offsets[part.start : part.stop + 1] - segment.start  # (B+1,) block offsets
        state = (theta0[part], np.sin(theta0[part]), np.cos(theta0[part]), omega0[part])
        stiffness = gravity / length[part]  # (B,) g / L
        theta[segment] = _integrate_block(times[segment], local, stiffness, state, friction, step)
    return theta


def generate_pendulum(num_sequences: int, seed: int = 42) -> PendulumSequences:
    """Draw L, theta0, omega0 (in that order), then the Hawkes times, then integrate.

    MLEM "Pendulum coordinate" data (arXiv 2401.15935, §Pendulum): ``L ~ U(0.5, 5)``,
    ``θ0, ω0 ~ U(1, 9)``, Hawkes(μ=15, α=0.2, β=1) times on [0, 5), b = 0.5, m = 1, g = 9.81.
    All draws come from one ``numpy.random.default_rng(seed)``; the original per-sequence
    global-RNG stream is not replicated, so the data match the paper in distribution only.
    """
    _check_count(num_sequences)
    rng = np.random.default_rng(seed)
    length = rng.uniform(0.5, 5.0, num_sequences)  # (N,)
    theta0 = rng.uniform(1.0, 9.0, num_sequences)  # (N,)
    omega0 = rng.uniform(1.0, 9.0, num_sequences)  # (N,)
    times, offsets = simulate_hawkes(num_sequences, rng)
    theta = integrate_pendulum(times, offsets, length, theta0, omega0)  # (E,)
    x, y = np.sin(theta).astype(np.float32), (-np.cos(theta)).astype(np.float32)  # (E,) each
    return PendulumSequences(times, offsets, x, y, length, theta0, omega0)
