using System.Globalization;

namespace VirtTools.Bench;

/// <summary>
/// The kernel's usbipd against `virttools usbipd`, as the QEMU lab's 91-usbipd-bench scenario measured them (one
/// static C client, sequential device lists, inside the guest): read from tests/lab/results/&lt;kernel&gt;/bench.txt
/// of the last lab run, since usbipd cannot run on this machine (it needs usbip-host).
/// </summary>
public static class LabServerFigures
{
    public static void AddTo(Report report)
    {
        var results = Path.Combine(BenchOptions.RepositoryRoot, "tests", "lab", "results");
        var files = Directory.Exists(results) ? Directory.GetFiles(results, "bench.txt", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList() : new List<string>();
        if (files.Count == 0)
        {
            report.Note("Server: no lab figures for the kernel's usbipd yet; run tests/lab/run (scenario 91-usbipd-bench) and rerun this bench.");
            return;
        }
        foreach (var file in files)
        {
            var kernel = Path.GetFileName(Path.GetDirectoryName(file))!;
            // One line per slice (the scenario takes each server in turns): summed here.
            var figures = File.ReadAllLines(file).Select(Parse).OfType<(string Server, Dictionary<string, string> Values)>()
                .GroupBy(f => f.Server).ToDictionary(g => g.Key, g => Sum(g.Select(f => f.Values).ToList()));
            if (!figures.TryGetValue("virttools", out var ours) || !figures.TryGetValue("usbipd", out var theirs)) continue;
            double oursRate = Number(ours, "per_second"), theirsRate = Number(theirs, "per_second");
            report.Add(new Row(ServerSuite.Name, $"device list (1 device), one sequential C client, QEMU lab guest (TCG), kernel {kernel}",
                $"virttools usbipd {oursRate:0.#}/s, p50 {Number(ours, "p50_us") / 1000:0.#} ms",
                $"kernel usbipd {theirsRate:0.#}/s, p50 {Number(theirs, "p50_us") / 1000:0.#} ms",
                theirsRate > 0 ? $"{oursRate / theirsRate:0.#}× the kernel's rate" : "",
                $"{ours.GetValueOrDefault("failures", "?")}/{theirs.GetValueOrDefault("failures", "?")} failures in {ours["rounds"]}/{theirs["rounds"]} rounds ({ours["slices"]}/{theirs["slices"]} slices); replies {ours.GetValueOrDefault("bytes", "?")}/{theirs.GetValueOrDefault("bytes", "?")} bytes; file {File.GetLastWriteTimeUtc(file):yyyy-MM-dd HH:mm} UTC"));
        }
    }

    /// <summary>
    /// Slices as one figure: rounds and failures added, the rate over the slices' whole time, the median of their p50,
    /// the worst p99, and how many slices there were.
    /// </summary>
    private static Dictionary<string, string> Sum(IReadOnlyList<Dictionary<string, string>> slices)
    {
        double rounds = 0, failures = 0, seconds = 0;
        foreach (var slice in slices)
        {
            rounds += Number(slice, "rounds");
            failures += Number(slice, "failures");
            var rate = Number(slice, "per_second");
            if (rate > 0) seconds += (Number(slice, "rounds") - Number(slice, "failures")) / rate;
        }
        var p50 = slices.Select(s => Number(s, "p50_us")).Order().ElementAt(slices.Count / 2);
        return new Dictionary<string, string>
        {
            ["rounds"] = Text(rounds), ["failures"] = Text(failures), ["slices"] = Text(slices.Count),
            ["per_second"] = Text(seconds > 0 ? (rounds - failures) / seconds : 0),
            ["p50_us"] = Text(p50), ["p99_us"] = Text(slices.Max(s => Number(s, "p99_us"))),
            ["bytes"] = slices[0].GetValueOrDefault("bytes", "?"),
        };
    }

    private static string Text(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>"devlist usbipd rounds=300 failures=0 per_second=12 ..." → ("usbipd", {rounds: 300, ...}).</summary>
    private static (string Server, Dictionary<string, string> Values)? Parse(string line)
    {
        var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 3 || words[0] != "devlist") return null;
        var values = words.Skip(2).Select(w => w.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        return (words[1], values);
    }

    private static double Number(Dictionary<string, string> values, string key) =>
        values.TryGetValue(key, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : 0;
}
