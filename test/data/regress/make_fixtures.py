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
# stories260K.gguf with token_embd.weight's type changed to IQ4_NL (20): a real
# ggml type pg_llm does not implement (everything else about the file is valid)
def tensor_type_offsets(buf):
    sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    def skip(t, off):
        if t == 8:
            return off + 8 + struct.unpack_from('<Q', buf, off)[0]
        if t == 9:
            et, n = struct.unpack_from('<IQ', buf, off)
            off += 12
            for _ in range(n):
                off = skip(et, off)
            return off
        return off + sizes[t]
    n_tensors, n_kv = struct.unpack_from('<QQ', buf, 8)
    off = 24
    for _ in range(n_kv):
        off += 8 + struct.unpack_from('<Q', buf, off)[0]
        t, = struct.unpack_from('<I', buf, off)
        off = skip(t, off + 4)
    out = {}
    for _ in range(n_tensors):
        n, = struct.unpack_from('<Q', buf, off)
        name = buf[off + 8:off + 8 + n].decode()
        off += 8 + n
        n_dims, = struct.unpack_from('<I', buf, off)
        off += 4 + 8 * n_dims
        out[name] = off          # the uint32 type follows the dimensions
        off += 4 + 8
    return out
with open('stories260K.gguf', 'rb') as src:
    model = bytearray(src.read())
struct.pack_into('<I', model, tensor_type_offsets(model)['token_embd.weight'], 20)
with open('unsupported_type.gguf', 'wb') as f:
    f.write(model)
