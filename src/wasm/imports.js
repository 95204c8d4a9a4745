// Functions stele.wasm imports from its host (module "env"), declared for the Emscripten linker;
// src/js/stele.js supplies the real ones when it instantiates the module.
mergeInto(LibraryManager.library, {
  // stele_wasm_translate_stream: one finished translation (index in the call, stele_result*).
  stele_js_on_result: function (index, result) {},
});
