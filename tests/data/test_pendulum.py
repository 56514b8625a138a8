"""Tests of the MLEM Pendulum dataset generator (arXiv 2401.15935, §Pendulum)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from eventssl.data import pendulum
from eventssl.data.pendulum import (
    PendulumSequences,
    generate_pendulum,
    integrate_pendulum,
    simulate_hawkes,
)


@pytest.fixture(scope="module")
def dataset() -> PendulumSequences:
    return generate_pendulum(64, seed=7)


def expected_hawkes_count(
    baseline: float, excitation: float, decay: float, horizon: float
) -> float:
    """E[N(T)] of an exponential-kernel Hawkes process started empty.

    The mean intensity m(t) solves m' = decay * baseline - (decay - excitation) m, m(0) =
    baseline; integrating m over [0, T] gives the closed form below (kappa = excitation / decay).
    """
    kappa = excitation / decay
    stationary = baseline * horizon / (1.0 - kappa)
    transient = baseline * kappa * (1.0 - math.exp(-decay * (1.0 - kappa) * horizon))
    return stationary - transient / (decay * (1.0 - kappa) ** 2)


def naive_hawkes_counts(
    num_sequences: int, rng: np.random.Generator, baseline: float, excitation: float, decay: float
) -> np.ndarray:
    """Plain per-sequence Ogata thinning on [0, 5), used as a reference for the counts."""
    counts = []
    for _ in range(num_sequences):
        clock, excite, count = 0.0, 0.0, 0
        while True:
            rate = baseline + excitation * excite
            gap = rng.exponential(1.0 / rate)
            if clock + gap >= 5.0:
                break
            excite *= math.exp(-decay * gap)
            if rng.random() * rate < baseline + excitation * excite:
                excite += 1.0
                count += 1
            clock += gap
        counts.append(count)
    return np.array(counts)


def reference_theta(data: PendulumSequences, index: int) -> np.ndarray:
    """High-accuracy DOP853 solution at the event times of sequence ``index``."""
    times = data.time[data.offsets[index] : data.offsets[index + 1]]
    stiffness = 9.81 / data.length[index]

    def rhs(_: float, state: np.ndarray) -> list[float]:
        return [state[1], -0.5 * state[1] - stiffness * math.sin(state[0])]

    start = [data.theta0[index], data.omega0[index]]
    solution = solve_ivp(
        rhs, (0.0, 5.0), start, method="DOP853", rtol=1e-10, atol=1e-10, t_eval=times
    )
    assert solution.success
    return solution.y[0]


def test_matches_high_accuracy_solver(dataset: PendulumSequences) -> None:
    theta = integrate_pendulum(
        dataset.time, dataset.offsets, dataset.length, dataset.theta0, dataset.omega0
    )
    for index in range(10):
        events = slice(dataset.offsets[index], dataset.offsets[index + 1])
        expected = reference_theta(dataset, index)
        np.testing.assert_allclose(theta[events], expected, rtol=0, atol=1e-6)
        np.testing.assert_allclose(dataset.x[events], np.sin(expected), rtol=0, atol=1e-4)
        np.testing.assert_allclose(dataset.y[events], -np.cos(expected), rtol=0, atol=1e-4)


def test_block_size_does_not_change_result(
    dataset: PendulumSequences, monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments = (dataset.time, dataset.offsets, dataset.length, dataset.theta0, dataset.omega0)
    whole = integrate_pendulum(*arguments)
    monkeypatch.setattr(pendulum, "_BLOCK_SIZE", 24)  # blocks of 24, 24, 16
    np.testing.assert_allclose(integrate_pendulum(*arguments), whole, rtol=0, atol=1e-12)


def test_integrate_handles_grid_points_and_start() -> None:
    times = np.array([0.0, 0.002, 0.5, 0.0, 1.0, 3.999])  # on and off the grid
    offsets = np.array([0, 3, 6])
    length, theta0, omega0 = np.array([1.0, 4.0]), np.array([2.0, 8.0]), np.array([3.0, 1.5])
    theta = integrate_pendulum(times, offsets, length, theta0, omega0)
    assert theta.dtype == np.float64 and theta.shape == (6,)
    np.testing.assert_allclose(theta[[0, 3]], theta0, rtol=0, atol=1e-15)
    for index in range(2):
        data = PendulumSequences(times, offsets, times, times, length, theta0, omega0)
        events = slice(offsets[index], offsets[index + 1])
        np.testing.assert_allclose(theta[events], reference_theta(data, index), atol=1e-6)


def test_hawkes_structure_and_mean_count() -> None:
    times, offsets = simulate_hawkes(4000, np.random.default_rng(0))
    assert times.dtype == np.float64 and offsets.dtype == np.int64
    assert offsets.shape == (4001,) and offsets[0] == 0 and offsets[-1] == times.size
    counts = np.diff(offsets)
    assert np.all(counts >= 1)
    assert np.all((times >= 0.0) & (times < 5.0))
    inside = np.ones(times.size - 1, dtype=bool)  # gap i is times[i + 1] - times[i]
    inside[offsets[1:-1] - 1] = False  # gaps that cross into the next sequence
    assert np.all(np.diff(times)[inside] >= 0.0)
    assert np.any(np.diff(times)[~inside] < 0.0)  # sequences really restart near t = 0
    expected = expected_hawkes_count(15.0, 0.2, 1.0, 5.0)
    assert expected == pytest.approx(89.15, abs=0.01)
    error = counts.std() / math.sqrt(counts.size)
    assert abs(counts.mean() - expected) < 4.0 * error
    assert 9.0 < counts.std() < 13.5


def test_hawkes_mean_other_parameters() -> None:
    rng = np.random.default_rng(1)
    _, offsets = simulate_hawkes(3000, rng, baseline=3.0, excitation=0.5, decay=2.0, horizon=4.0)
    counts = np.diff(offsets)
    expected = expected_hawkes_count(3.0, 0.5, 2.0, 4.0)
    # Resampling empty sequences (P = exp(-12)) shifts the mean by far less than the tolerance.
    assert abs(counts.mean() - expected) < 4.0 * counts.std() / math.sqrt(counts.size)


def test_hawkes_matches_naive_loop() -> None:
    naive = naive_hawkes_counts(1500, np.random.default_rng(2), 15.0, 0.2, 1.0)
    _, offsets = simulate_hawkes(1500, np.random.default_rng(3))
    vectorised = np.diff(offsets)
    error = math.sqrt(naive.var() / naive.size + vectorised.var() / vectorised.size)
    assert abs(naive.mean() - vectorised.mean()) < 4.0 * error
    assert vectorised.std() == pytest.approx(naive.std(), rel=0.15)


def test_empty_sequences_are_resampled() -> None:
    rng = np.random.default_rng(4)
    times, offsets = simulate_hawkes(50, rng, baseline=0.05, excitation=0.0, horizon=1.0)
    assert np.all(np.diff(offsets) >= 1) and offsets[-1] == times.size
    assert np.all((times >= 0.0) & (times < 1.0))


def test_dataset_ranges_and_types(dataset: PendulumSequences) -> None:
    count = dataset.length.size
    assert count == 64 and dataset.offsets.shape == (count + 1,)
    assert np.all(np.diff(dataset.offsets) >= 1)
    assert dataset.x.dtype == np.float32 and dataset.y.dtype == np.float32
    assert dataset.x.shape == dataset.y.shape == dataset.time.shape
    assert np.all((dataset.length >= 0.5) & (dataset.length <= 5.0))
    for initial in (dataset.theta0, dataset.omega0):
        assert np.all((initial >= 1.0) & (initial <= 9.0))
    radius = dataset.x.astype(np.float64) ** 2 + dataset.y.astype(np.float64) ** 2
    np.testing.assert_allclose(radius, 1.0, rtol=0, atol=1e-6)


def test_determinism(dataset: PendulumSequences) -> None:
    again = generate_pendulum(64, seed=7)
    for name in ("time", "offsets", "x", "y", "length", "theta0", "omega0"):
        np.testing.assert_array_equal(getattr(again, name), getattr(dataset, name))
    other = generate_pendulum(64, seed=8)
    assert not np.array_equal(other.length, dataset.length)
    assert other.time.size != dataset.time.size or not np.array_equal(other.time, dataset.time)


def test_default_seed_is_42() -> None:
    np.testing.assert_array_equal(generate_pendulum(3).x, generate_pendulum(3, seed=42).x)


@pytest.mark.parametrize("num_sequences", [0, -3, 2.5, True])
def test_invalid_num_sequences(num_sequences: object) -> None:
    with pytest.raises(ValueError, match="num_sequences"):
        generate_pendulum(num_sequences)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_sequences"):
        simulate_hawkes(num_sequences, np.random.default_rng())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "value"),
    [("baseline", 0.0), ("baseline", float("nan")), ("decay", -1.0), ("horizon", 0.0)]
    + [("excitation", -0.1)],
)
def test_invalid_hawkes_arguments(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        simulate_hawkes(3, np.random.default_rng(), **{name: value})


@pytest.mark.parametrize(
    ("name", "value"), [("step", 0.0), ("mass", -1.0), ("damping", -0.5), ("gravity", 0.0)]
)
def test_invalid_integration_arguments(name: str, value: float) -> None:
    times, offsets = np.array([0.1, 0.2]), np.array([0, 2])
    ones = np.ones(1)
    with pytest.raises(ValueError, match=name):
        integrate_pendulum(times, offsets, ones, ones, ones, **{name: value})


def test_invalid_integration_shapes() -> None:
    times, ones = np.array([0.1, 0.2]), np.ones(1)
    with pytest.raises(ValueError, match="offsets"):
        integrate_pendulum(times, np.array([0, 1]), ones, ones, ones)
    with pytest.raises(ValueError, match="theta0"):
        integrate_pendulum(times, np.array([0, 2]), ones, np.ones(2), ones)
    with pytest.raises(ValueError, match="length"):
        integrate_pendulum(times, np.array([0, 2]), -ones, ones, ones)
