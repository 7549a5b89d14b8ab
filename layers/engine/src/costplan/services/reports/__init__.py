"""Reports domain: POST /report/generate and its asynchronous jobs (SQS worker, sweeper, DLQ drain).

Modules: ``dispatch`` (report kinds, rendering, the endpoints' entry points) and ``jobs`` (the job lifecycle and
the ports it runs on, which ``costplan.adapters`` implement).
"""
