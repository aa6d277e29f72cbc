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
            var figures = File.ReadAllLines(file).Select(Parse).Where(f => f is not null).ToDictionary(f => f!.Value.Server, f => f!.Value.Values);
            if (!figures.TryGetValue("virttools", out var ours) || !figures.TryGetValue("usbipd", out var theirs)) continue;
            double oursRate = Number(ours, "per_second"), theirsRate = Number(theirs, "per_second");
            report.Add(new Row(ServerSuite.Name, $"device list (1 device), one sequential C client, QEMU lab guest (TCG), kernel {kernel}",
                $"virttools usbipd {oursRate:0}/s, p50 {Number(ours, "p50_us") / 1000:0.#} ms",
                $"kernel usbipd {theirsRate:0}/s, p50 {Number(theirs, "p50_us") / 1000:0.#} ms",
                theirsRate > 0 ? $"{oursRate / theirsRate:0.#}× the kernel's rate" : "",
                $"{ours.GetValueOrDefault("failures", "?")}/{theirs.GetValueOrDefault("failures", "?")} failures; replies {ours.GetValueOrDefault("bytes", "?")}/{theirs.GetValueOrDefault("bytes", "?")} bytes; file {File.GetLastWriteTimeUtc(file):yyyy-MM-dd HH:mm} UTC"));
        }
    }

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
