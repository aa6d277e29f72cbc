namespace VirtTools.Bench;

/// <summary>A group of benchmarks that adds its rows to the one report of the run.</summary>
public abstract class BenchSuite
{
    protected BenchSuite(BenchOptions options, Report report)
    {
        Options = options;
        Report = report;
    }

    protected BenchOptions Options { get; }
    protected Report Report { get; }

    public abstract void Run();
}
