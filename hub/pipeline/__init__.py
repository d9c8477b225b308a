"""The path of a flow inside the hub: gather → fetch → archive → read → map → apply.

``sync``: one source's sync, resumable from its stored cursor; ``ingest``: archive and
record a received flow; ``read``: the one streaming parse of a flow's files through its
source's dialect, with the fast path (``parallel``) where it is safe; ``mapstage``: the
harmonised rows of each formation; ``apply``: one flow, one transaction, held snapshots;
``guard``: what a replay or a late flow must not overwrite; ``remap`` and ``replay``: the
same path again over what is stored or archived.
"""
