# Placeholder: the demo (root -> intermediate -> server chain, verified by
# `openssl verify`) is being written. Run with `bash scripts/demo`.
(print "examples/demo.janet: placeholder; the real demo is not written yet")
