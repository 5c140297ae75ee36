import * as w from '@tensorflow/tfjs-backend-wasm';
console.log(import.meta.resolve('@tensorflow/tfjs-backend-wasm'), Object.keys(w).slice(0,10));
