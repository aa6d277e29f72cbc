namespace VirtTools.Bench;

/// <summary>Command line: --quick (smoke run: small sizes, few repetitions), --filter WORD (suites/cases containing it), --out FILE.</summary>
public sealed record BenchOptions(bool Quick, string? Filter, string ResultsPath, string WorkFolder)
{
    public static BenchOptions Parse(string[] args)
    {
        bool quick = false;
        string? filter = null, output = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick": quick = true; break;
                case "--filter" when i + 1 < args.Length: filter = args[++i]; break;
                case "--out" when i + 1 < args.Length: output = args[++i]; break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'. Usage: [--quick] [--filter enumeration|server|codec|startup|profile|density|relay|WORD] [--out FILE]");
            }
        }
        var work = Path.Combine(Path.GetTempPath(), "virttools-bench");
        // A smoke run writes next to the real results, never over them.
        output ??= Path.Combine(RepositoryRoot, "bench", quick ? "RESULTS.quick.md" : "RESULTS.md");
        return new BenchOptions(quick, filter, output, work);
    }

    public bool Selects(string suite, string? item = null) =>
        Filter is null
        || suite.Contains(Filter, StringComparison.OrdinalIgnoreCase)
        || (item?.Contains(Filter, StringComparison.OrdinalIgnoreCase) ?? false);

    /// <summary>The repository, found from the build output (bench/VirtTools.Bench/bin/...).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "VirtTools.psd1")) && Directory.Exists(Path.Combine(dir.FullName, "bench"))) return dir.FullName;
            throw new InvalidOperationException("Cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }
}
