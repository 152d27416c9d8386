"""Checking Civic's published results without trusting Civic: the Merkle tree of a poll's
ballot log (RFC 9162, as Certificate Transparency uses it), Ed25519 signatures of its tree
heads, and a recount. Plain Python, no Django and no other package, so that anyone can
read and run it (``python -m civic_verify DIR``; see README.md here). The platform uses
the same code to build the log, so both sides agree byte for byte."""
