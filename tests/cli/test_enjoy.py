"""`mario-zoo enjoy`: a window when there is a display; otherwise exit 1 pointing to `record`."""

from __future__ import annotations


def test_without_a_display_enjoy_points_to_record(cli, trained_run, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    result = cli("enjoy", trained_run.path)
    assert result.code == 1
    assert "no display" in result.err and f"mario-zoo record {trained_run.path} --out replay.mp4" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_with_a_display_enjoy_plays_in_a_window(cli, trained_run, monkeypatch):
    # SDL's dummy driver gives pygame a window that is never shown: the whole display path runs headless.
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    result = cli("enjoy", trained_run.path, "--fps", 1000, "--scale", 1)
    assert result.code == 0, result.err
    assert "on CartPole-v1:" in result.out and "1 episode(s)" in result.out
