"""Development and demo only: the corpus generator, the simulated regional systems, the
intercariforef receiver and the faults they inject. Used by ``make run``, the tests and the
benchmark; nothing in the hub's production packages imports it, and the wheel leaves it out.
"""
