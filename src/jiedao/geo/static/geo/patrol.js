/* 巡查打卡: ask for the position as soon as the page opens (the button stays for a retry). */
(function () {
  "use strict";
  window.addEventListener("load", function () {
    var button = document.querySelector("[data-auto-locate]");
    var lat = document.querySelector("input[name=lat]");
    if (button && lat && !lat.value) { button.click(); }
  });
})();
