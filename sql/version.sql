-- CREATE EXTENSION makes schema llm; llm.version() reports version and build.
CREATE EXTENSION IF NOT EXISTS pg_llm;

SELECT extname, extversion, extnamespace::regnamespace AS schema
FROM pg_extension WHERE extname = 'pg_llm';

SELECT llm.version() ~ '^pg_llm 0\.1\.0; ' AS has_version,
       llm.version() ~ '; cpu: [a-z0-9 -]+;' AS has_cpu,
       llm.version() ~ '; kernels: (scalar|avx2|avx512)' AS has_kernels,
       llm.version() ~ '; blas: OpenBLAS [0-9.]+' AS has_blas,
       llm.version() ~ '; threads: [0-9]+' AS has_threads;

-- the version string agrees with the extension's catalogue version
SELECT split_part(split_part(llm.version(), ';', 1), ' ', 2) =
       (SELECT extversion FROM pg_extension WHERE extname = 'pg_llm') AS versions_agree;

-- the library is preloaded (the harness's shared_preload_libraries)
SHOW shared_preload_libraries;
