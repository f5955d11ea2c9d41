"""The session-signing key: the setting, else one generated once under instance/ and reused."""

from engage.config import Config
from engage.console.secret import secret_key


def test_the_setting_wins(tmp_path):
    config = Config(database_url="sqlite://", secret_key="0123456789abcdef")
    assert secret_key(config, tmp_path) == "0123456789abcdef"
    assert not (tmp_path / "secret_key").exists()


def test_without_it_one_is_generated_once_privately_and_reused(tmp_path):
    config = Config(database_url="sqlite://")
    first = secret_key(config, tmp_path / "instance")
    assert len(first) == 64
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert secret_key(config, tmp_path / "instance") == first


def test_tests_get_a_fresh_key_and_write_nothing(tmp_path):
    config = Config(database_url="sqlite://", testing=True)
    assert secret_key(config, tmp_path) != secret_key(config, tmp_path)
    assert list(tmp_path.iterdir()) == []
