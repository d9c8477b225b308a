"""The path of a flow inside the hub: read its archived files once, map, apply.

``read``: the one streaming parse of a flow's files through its source's dialect, with the
encoding checked and the fast path (:mod:`hub.pipeline.parallel`) where it is safe;
``guard``: what a replay or a late flow must not overwrite.
"""
