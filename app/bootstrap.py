"""Prepare instance/ for a first start without importing the app: `python -m app.bootstrap`."""
import secrets
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def ensure_instance_config(instance=INSTANCE):
    """Create instance/config.py with a random SECRET_KEY unless it already sets one."""
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "uploads").mkdir(exist_ok=True)
    config = instance / "config.py"
    text = config.read_text() if config.exists() else ""
    if "SECRET_KEY" in text:
        return False
    with config.open("a") as handle:
        handle.write(f"\n# Generated on first start; keep it secret and stable.\nSECRET_KEY = {secrets.token_urlsafe(48)!r}\n")
    config.chmod(0o600)
    return True


if __name__ == "__main__":
    if ensure_instance_config():
        print(f"Wrote a new SECRET_KEY to {INSTANCE / 'config.py'}")
