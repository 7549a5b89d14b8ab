"""Pure numpy kernels: no I/O, no logging, no AWS, no HTTP. Imports only numpy and itself."""
