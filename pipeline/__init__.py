"""stdp-capacity: memory capacity of STDP hetero-associative memories, by simulation
(one PyNN model on NEST and SpiNNaker) and by drift/diffusion theory."""
__version__ = "0.1.0"
