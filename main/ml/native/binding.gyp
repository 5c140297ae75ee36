{
  "targets": [
    {
      "target_name": "usfm_blas",
      "sources": ["usfm_blas.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "conditions": [["OS=='linux'", { "libraries": ["-ldl"] }]]
    }
  ]
}
