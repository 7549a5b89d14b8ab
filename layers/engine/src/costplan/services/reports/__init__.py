"""Reports domain: POST /report/generate and its asynchronous jobs (SQS worker, sweeper, DLQ drain).

Modules, one concern each:
- ``api``: the endpoints' entry points (generate, job status, a finished file);
- ``dispatch``: report kinds (each kind's request, response, service, content) and rendering every format;
- ``jobs``: the job lifecycle (worker, sweeper, DLQ drain) and the ports it runs on, which ``costplan.adapters``
  implement;
- ``events``: S3 event parsing (which dropped objects become jobs) and the bucket's drop folders;
- ``requests``: the one builder of an invoice-analysis report request (POST /invoice/analyze exports and dropped files);
- ``invoice_jobs``: an export named in POST /invoice/analyze, checked and submitted as a report job;
- ``urls``: the status URL and the object keys of a report's request and files.
"""
