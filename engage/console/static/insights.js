// Draws the insights page's charts from the figures the page carries (no request of its own).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("insights-data");
  if (!source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const column = (label) => data.daily.map((row) => row[data.columns.indexOf(label)]);
  const labels = column("Date");
  const draw = (id, type, series) => new Chart(document.getElementById(id), {
    type,
    data: { labels, datasets: series.map((label) => ({ label, data: column(label) })) },
    options: { animation: false, responsive: true, scales: { y: { beginAtZero: true } } },
  });
  draw("chart-members", "bar", ["New members"]);
  draw("chart-points", "line", ["Points issued", "Points redeemed", "Points expired", "Points donated"]);
  draw("chart-referrals", "bar", ["Referrals"]);
  draw("chart-ratings", "line", ["Mean rating"]);
});
