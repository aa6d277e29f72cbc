namespace VirtTools.Bench;

/// <summary>URB codec throughput and allocations (BenchmarkDotNet); needs the USB/IP codec from the usbip branch.</summary>
public sealed class CodecSuite
{
    public const string Name = "codec";

    private readonly BenchOptions _options;
    private readonly Report _report;

    public CodecSuite(BenchOptions options, Report report)
    {
        _options = options; _report = report;
    }

    public void Run() =>
        _report.Add(new Row(Name, "CMD_SUBMIT/RET_SUBMIT encode/decode", "not merged yet", "", "", _options.Quick ? "" : "rerun after the usbip merge"));
}
