using System.Diagnostics;
using Xunit;

namespace VirtTools.Tests.Support;

/// <summary>
/// Tests that change this machine's real /sys/kernel/mm/ksm. The collection runs alone (xunit runs collections
/// with parallelization disabled after the others), and every test restores what it found.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LiveKsmCollection
{
    public const string Name = "LiveKsm";
}

/// <summary>The writable KSM tunables as found; Dispose writes back every one that changed, run state last.</summary>
public sealed class KsmSettingsSnapshot : IDisposable
{
    private const string Ksm = "/sys/kernel/mm/ksm/";

    // advisor_mode first: while the advisor is on the kernel refuses pages_to_scan.
    private static readonly string[] Tunables =
    {
        "advisor_mode", "pages_to_scan", "sleep_millisecs", "use_zero_pages", "smart_scan",
        "advisor_max_cpu", "advisor_min_pages_to_scan", "advisor_max_pages_to_scan", "advisor_target_scan_time", "max_page_sharing",
    };

    private readonly Dictionary<string, string> _found = new();

    public KsmSettingsSnapshot()
    {
        foreach (var name in Tunables.Append("run"))
            if (File.Exists(Ksm + name)) _found[name] = Current(name);
    }

    public string this[string attribute] => _found[attribute];

    public static string Current(string attribute)
    {
        var text = File.ReadAllText(Ksm + attribute).Trim();
        int open = text.IndexOf('['), close = text.IndexOf(']');
        return open >= 0 && close > open ? text[(open + 1)..close] : text;
    }

    public void Dispose()
    {
        foreach (var name in Tunables.Append("run"))
            if (_found.TryGetValue(name, out var value) && Current(name) != value)
                File.WriteAllText(Ksm + name, value + "\n");
    }
}

/// <summary>
/// A child process that maps 64 MiB of identical non-zero pages and marks them MADV_MERGEABLE, so KSM has
/// something real to merge. Built from C with the machine's cc on first use; killed on Dispose.
/// </summary>
public sealed class MergeableMemoryProcess : IDisposable
{
    private const string Source = """
        #include <stdio.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <unistd.h>
        int main(void) {
            size_t size = 64u << 20;
            char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) { perror("mmap"); return 1; }
            memset(p, 0x5a, size);
            if (madvise(p, size, MADV_MERGEABLE) != 0) { perror("madvise"); return 1; }
            printf("ready\n");
            fflush(stdout);
            for (;;) pause();
        }
        """;

    private static readonly Lazy<string> Executable = new(Build);
    private readonly Process _process;

    public MergeableMemoryProcess()
    {
        _process = Process.Start(new ProcessStartInfo(Executable.Value) { RedirectStandardOutput = true, UseShellExecute = false })!;
        var line = _process.StandardOutput.ReadLine();
        if (line != "ready") throw new InvalidOperationException($"the mergeable-memory helper did not start: '{line}'");
    }

    public int Id => _process.Id;

    private static string Build()
    {
        // Not on the tmpfs scratch root: /dev/shm is often mounted noexec.
        var folder = Directory.CreateTempSubdirectory("virttools-ksm-helper-").FullName;
        var source = Path.Combine(folder, "mergeable.c");
        var binary = Path.Combine(folder, "mergeable");
        File.WriteAllText(source, Source);
        using var cc = Process.Start(new ProcessStartInfo("cc", $"-O1 -o {binary} {source}") { RedirectStandardError = true, UseShellExecute = false })!;
        var errors = cc.StandardError.ReadToEnd();
        cc.WaitForExit();
        if (cc.ExitCode != 0) throw new InvalidOperationException("cc failed to build the KSM helper: " + errors);
        return binary;
    }

    public void Dispose()
    {
        try { _process.Kill(); _process.WaitForExit(5000); }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
