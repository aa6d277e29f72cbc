namespace VirtTools.Bench;

/// <summary>The machine the figures come from: cores, memory, CPU model, kernel, runtime.</summary>
public static class Machine
{
    public static IEnumerable<string> Describe()
    {
        yield return $"CPU: {FirstValue("/proc/cpuinfo", "model name") ?? "unknown"}; nproc: {Environment.ProcessorCount}";
        var memory = FirstValue("/proc/meminfo", "MemTotal");
        yield return $"memory: {(memory is null ? "unknown" : $"{long.Parse(memory.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024 / 1024.0:0.0} GiB")}";
        yield return $"kernel: {ReadLine("/proc/sys/kernel/osrelease") ?? "unknown"}; .NET {Environment.Version}";
    }

    private static string? ReadLine(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;

    private static string? FirstValue(string path, string key) =>
        File.Exists(path)
            ? File.ReadLines(path).Where(l => l.StartsWith(key, StringComparison.Ordinal)).Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault()
            : null;
}
