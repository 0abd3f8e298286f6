"""Proof of the image, the compose stack, the GitLab pipeline and the Kubernetes
manifests on a machine with no Docker engine, registry or cluster (README.md here).

It imports the app's test helpers (``tests.support``, ``tests.fakes``); the app's
tests never import anything from here.
"""
