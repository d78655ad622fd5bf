"""Agent evals on inspect-ai (eval suite part 2): cases (`cases`), code graders (`graders`), the sandbox a run works
in (`sandbox`), the bridge from our runner to inspect's model API (`bridge`), the inspect tasks (`task`), the
scripted transcripts of the offline proof (`scripted`), and the results (`results`, `run`).

Nothing here imports inspect-ai at import time but `task` and `run_agent_evals`'s call: the graders and results work
without the `evals` extra."""
