#if HAS_URB_CODEC
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using VirtTools.Bench.Codec;
#endif

namespace VirtTools.Bench;

/// <summary>
/// URB codec throughput and allocations per message, by BenchmarkDotNet in-process (short job; a dry job with
/// --quick). Compiled in when the USB/IP codec is present in the engine (HAS_URB_CODEC, set by the project).
/// </summary>
public sealed class CodecSuite : BenchSuite
{
    public const string Name = "codec";


    public CodecSuite(BenchOptions options, Report report) : base(options, report) { }

#if HAS_URB_CODEC
    public override void Run()
    {
        var job = (Options.Quick ? Job.Dry : Job.ShortRun).WithToolchain(InProcessEmitToolchain.Instance);
        var config = ManualConfig.CreateEmpty().AddJob(job).AddDiagnoser(MemoryDiagnoser.Default)
            .AddLogger(ConsoleLogger.Default).AddColumnProvider(DefaultColumnProviders.Instance)
            .WithArtifactsPath(Path.Combine(Options.WorkFolder, "BenchmarkDotNet.Artifacts"));
        var summary = BenchmarkRunner.Run<UrbCodecBenchmarks>(config);
        var results = summary.Reports
            .Where(r => r.ResultStatistics is not null)
            .Select(r => (Method: r.BenchmarkCase.Descriptor.WorkloadMethod.Name, Payload: (int)r.BenchmarkCase.Parameters["Payload"],
                Nanoseconds: r.ResultStatistics!.Median, Allocated: r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) ?? -1))
            .ToList();
        foreach (var payload in results.Select(r => r.Payload).Distinct().Order())
        {
            var floor = results.Single(r => r.Payload == payload && r.Method == nameof(UrbCodecBenchmarks.CopyFloor));
            foreach (var r in results.Where(r => r.Payload == payload && r.Method != floor.Method))
            {
                double bytes = 48 + payload, gbPerSecond = bytes / r.Nanoseconds;
                Report.Add(new Row(Name, $"{r.Method}, {payload:N0}-byte payload", $"{Nanos(r.Nanoseconds)}/message ({gbPerSecond:0.00} GB/s)",
                    $"copy floor {Nanos(floor.Nanoseconds)}", $"{Timing.Ratio(r.Nanoseconds / floor.Nanoseconds)} floor",
                    r.Allocated == 0 ? "0 B allocated" : $"{r.Allocated} B allocated per message"));
            }
        }
    }

    private static string Nanos(double ns) => ns >= 1000 ? Timing.Microseconds(ns / 1000) : $"{ns:0.0} ns";
#else
    public override void Run() =>
        Report.Add(new Row(Name, "CMD_SUBMIT/RET_SUBMIT encode/decode", "not merged yet", "", "", "harness in Codec/; rerun after the usbip merge"));
#endif
}
