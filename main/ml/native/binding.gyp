{
  "targets": [
    {
      "target_name": "usfm_native",
      "sources": ["usfm_native.c"],
      "cflags": ["-O3", "-fno-trapping-math", "-fno-math-errno", "-Wall", "-Wextra"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-fno-trapping-math", "-fno-math-errno"] },
      "conditions": [["OS=='linux'", { "libraries": ["-ldl"] }]]
    }
  ]
}
