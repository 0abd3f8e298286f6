"""What the proofs run besides pytest: shell tools, the stand-in images' definitions,
and pipeline_rules.py, which the pipeline proof also imports (proof/README.md)."""
