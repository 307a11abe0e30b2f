// 多元共治: keep the "project" checkboxes of the vote within the voter's rules while choosing.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("form.ballot input[name=project]")) return;
  var form = box.form;
  var max = parseInt(form.dataset.max, 10);
  var budget = parseInt(form.dataset.budget, 10);
  var chosen = form.querySelectorAll("input[name=project]:checked");
  var total = 0;
  chosen.forEach(function (c) { total += parseInt(c.dataset.cost, 10) || 0; });
  var out = form.querySelector("[data-total]");
  if (out) out.textContent = total;
  form.classList.toggle("over-budget", total > budget);
  form.querySelectorAll("input[name=project]:not(:checked)").forEach(function (c) {
    c.disabled = chosen.length >= max;
  });
});
