"""``python -m box_secrets`` runs the same CLI as ``box-secrets``."""

from box_secrets.cli import main

if __name__ == "__main__":
    main()
