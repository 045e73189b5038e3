// Wizard and upload forms: show the chosen photos and videos before they are uploaded.
(function () {
  "use strict";

  function clear(list) {
    list.querySelectorAll("[data-object-url]").forEach(function (el) {
      URL.revokeObjectURL(el.getAttribute("data-object-url"));
    });
    list.textContent = "";
  }

  function preview(input) {
    var list = document.querySelector(input.getAttribute("data-preview"));
    if (!list) { return; }
    clear(list);
    Array.prototype.forEach.call(input.files || [], function (file) {
      var item = document.createElement("li");
      var media = null;
      // HEIC/HEIF (phone photos) show in Safari only: elsewhere the name stands alone until the server's JPEG.
      var heif = /^image\/hei[cf]/.test(file.type) || /\.hei[cf]$/i.test(file.name);
      if (/^image\//.test(file.type) && !heif) {
        media = document.createElement("img");
        media.alt = file.name;
      } else if (/^video\//.test(file.type)) {
        media = document.createElement("video");
        media.muted = true;
        media.setAttribute("playsinline", "");
      }
      if (media) {
        var url = URL.createObjectURL(file);
        media.src = url;
        media.setAttribute("data-object-url", url);
        item.appendChild(media);
      }
      var name = document.createElement("span");
      name.textContent = file.name;
      item.appendChild(name);
      list.appendChild(item);
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input && input.matches && input.matches("input[type=file][data-preview]")) {
      preview(input);
    }
  });
})();
