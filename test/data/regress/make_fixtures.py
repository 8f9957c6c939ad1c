#!/usr/bin/env python3
"""make_fixtures.py -- writes the small broken GGUF files the pg_regress tests
load to check the error mapping (run from this directory; deterministic)."""
import struct

def gguf_string(s):
    b = s.encode()
    return struct.pack('<Q', len(b)) + b

def gguf(version, kvs, n_tensors=0):
    out = b'GGUF' + struct.pack('<I', version)
    out += struct.pack('<QQ', n_tensors, len(kvs))
    for key, value in kvs:
        out += gguf_string(key) + struct.pack('<I', 8) + gguf_string(value)  # 8 = STRING
    return out

# a well-formed file of an architecture pg_llm does not implement
with open('unsupported_arch.gguf', 'wb') as f:
    f.write(gguf(3, [('general.architecture', 'mamba'), ('general.name', 'not supported')]))
# GGUF version 1 (never supported)
with open('gguf_v1.gguf', 'wb') as f:
    f.write(b'GGUF' + struct.pack('<I', 1) + b'\0' * 24)
# the first 4 KiB of stories260K.gguf: the tensor data runs past the end
with open('stories260K.gguf', 'rb') as src, open('truncated.gguf', 'wb') as f:
    f.write(src.read(4096))
# not a GGUF file at all
with open('not_a_model.gguf', 'wb') as f:
    f.write(b'this is a text file, not a model\n' * 4)
