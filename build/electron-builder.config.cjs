// electron-builder configuration: `npm run dist` (after `npm run build`).
// Packages the bundles (dist/), the renderer and the bundled resources into an asar with the security
// fuses flipped; native modules and WASM files are unpacked so they load from real files.
/** @type {import('electron-builder').Configuration} */
module.exports = {
  appId: 'org.usfm.workbench',
  productName: 'USFM Workbench',
  copyright: 'Copyright © USFM Workbench contributors',
  // Pinned: electron is an optional dependency that may not be installed where packaging runs.
  electronVersion: '41.7.1',
  directories: { output: 'release', buildResources: 'build' },
  artifactName: 'usfm-workbench-${version}-${arch}.${ext}',
  publish: null,

  files: [
    'package.json',
    'dist/**/*',
    'resources/**/*',
    '!**/*.map',
    '!**/*.{ts,mts,cts,tsx,vue}',
    '!{main,electron,renderer,scripts,tests,bin,build,coverage,release,tmp}/**',
    // Build- and development-time packages listed under dependencies: the bundles do not load them.
    '!node_modules/{vue,@vue,pinia,tsx,esbuild,@esbuild,vite,vitest}/**',
    '!**/node_modules/*/{CHANGELOG.md,README.md,readme.md,test,tests,__tests__,example,examples,docs}',
    '!**/node_modules/better-sqlite3/{deps,src,build/Release/obj.target,build/Release/test_extension.node}',
  ],
  asar: true,
  // Files that must exist outside the archive: native addons (dlopen), libtensorflow next to tfjs-node,
  // WASM binaries read by path, and the sample data handed to external tools.
  asarUnpack: [
    '**/*.node',
    'node_modules/better-sqlite3/**',
    'node_modules/@tensorflow/tfjs-node/**',
    'node_modules/@tensorflow/tfjs-node-gpu/**',
    'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm',
    'node_modules/@cornerstonejs/codec-*/dist/*.wasm',
    'node_modules/dcmjs-codecs/build/*.wasm',
    'resources/samples/**',
  ],

  // Native modules (better-sqlite3, tfjs-node) are rebuilt against Electron's ABI for the target.
  npmRebuild: true,
  nodeGypRebuild: false,
  buildDependenciesFromSource: false,

  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    loadBrowserProcessSpecificV8Snapshot: false,
    grantFileProtocolExtraPrivileges: false,
  },

  linux: {
    target: ['AppImage', 'deb'],
    icon: 'build/icon.png',
    category: 'Science',
    executableName: 'usfm-workbench',
    maintainer: 'USFM Workbench maintainers <maintainers@usfm-workbench.invalid>',
    vendor: 'USFM Workbench contributors',
    synopsis: 'Ultrasound foundation-model workbench',
    description:
      'Curate ultrasound DICOM/PNG data, pretrain Vision Transformers with MAE / USFM / USFM+ masked image modelling, fine-tune, evaluate and review, on your own premises.',
    desktop: {
      entry: {
        Name: 'USFM Workbench',
        Comment: 'Ultrasound foundation-model workbench',
        Categories: 'Science;MedicalSoftware;',
        StartupWMClass: 'USFM Workbench',
      },
    },
  },
  deb: {
    priority: 'optional',
    // The native matrix-product kernels open OpenBLAS when it is installed (about 2x faster training on
    // CPU); without it training falls back to the WASM kernels.
    recommends: ['libopenblas0'],
  },

  win: {
    target: [{ target: 'nsis', arch: ['x64'] }],
    icon: 'build/icon.png',
  },
  // Assisted, per-machine installer (hospital IT installs once for every user of the workstation).
  nsis: {
    oneClick: false,
    perMachine: true,
    allowToChangeInstallationDirectory: true,
    allowElevation: true,
    createDesktopShortcut: true,
    createStartMenuShortcut: true,
    shortcutName: 'USFM Workbench',
    // The catalog and the datasets in the user's data folder survive an uninstall.
    deleteAppDataOnUninstall: false,
  },
};
