/* Jiedao pages: the "use my position" button. Everything else works without script. */
(function () {
  "use strict";
  function setup(root) {
    root.querySelectorAll("[data-locate]").forEach(function (button) {
      if (button.dataset.locateReady) { return; }
      button.dataset.locateReady = "1";
      button.addEventListener("click", function () {
        var box = button.closest(".location") || document;
        var status = box.querySelector("[data-locate-status]");
        var say = function (text) { if (status) { status.textContent = text; } };
        if (!navigator.geolocation) { say(button.dataset.msgUnsupported || "此设备不支持定位，请填写地址。"); return; }
        say(button.dataset.msgWorking || "正在定位……");
        navigator.geolocation.getCurrentPosition(function (pos) {
          var lat = box.querySelector("[name=lat]"), lng = box.querySelector("[name=lng]");
          if (lat) { lat.value = pos.coords.latitude.toFixed(6); }
          if (lng) { lng.value = pos.coords.longitude.toFixed(6); }
          say((button.dataset.msgDone || "已定位：") + pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5));
        }, function () {
          say(button.dataset.msgFailed || "定位失败，请填写地址。");
        }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
      });
    });
  }
  // Small behaviours declared in the page instead of inline handlers (the Content-Security-Policy
  // allows no inline script): a print button, and a form whose chosen option is the address to open.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-print]");
    if (button) { e.preventDefault(); window.print(); }
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches && form.matches("form[data-open-selected]")) {
      var select = form.querySelector("select");
      if (select && select.value) { e.preventDefault(); window.location.href = select.value; }
    }
  });
  // Enter in a search box inside a form searches; it never submits the form around it (the
  // intake form would otherwise be registered half-filled).
  document.addEventListener("keydown", function (e) {
    var box = e.target;
    if (e.key === "Enter" && box.matches && box.matches("input.catsearch")) {
      e.preventDefault();
      box.dispatchEvent(new Event("search", { bubbles: true }));
    }
  });
  // 知识库 on the intake screen: "用此答复" takes the article's answer into the form and marks the
  // call as answered at the desk (直接答复); the operator can still edit the text.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-use-answer]");
    if (!button) { return; }
    var form = button.closest("form");
    var item = button.closest("[data-article]");
    if (!form || !item) { return; }
    var source = item.querySelector("template.kb-answer");
    var text = source ? source.content.textContent : (button.dataset.answer || "");
    var answer = form.querySelector("[name=answer]");
    var article = form.querySelector("[name=article]");
    var answered = form.querySelector("[name=outcome][value=answered]");
    if (answer) { answer.value = text.trim(); }
    if (article) { article.value = item.dataset.article; }
    if (answered) { answered.checked = true; }
    if (answer) { answer.focus(); }
  });
  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  document.addEventListener("htmx:load", function (e) { setup(e.target); });
})();
