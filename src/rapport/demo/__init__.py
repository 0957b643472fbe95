"""The demo shop: invented customers, a catalogue, orders and email history to explore.

``generate`` and its data modules are pure Python (no Django), so batches can be generated in
another process while this one writes; ``shop`` writes them and is the entry point.
"""
