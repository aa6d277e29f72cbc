using System.Diagnostics;
using VirtTools.Bench;
using VirtTools.Bench.Enumeration;

// One command runs every benchmark and prints one table of figures and ratios measured in the same run:
//   dotnet run -c Release --project bench/VirtTools.Bench [-- --quick] [-- --filter enumeration|server|codec|startup|profile|density|relay|Get-PciDevice]
var options = BenchOptions.Parse(args);
var report = new Report();
var clock = Stopwatch.StartNew();
Directory.CreateDirectory(options.WorkFolder);

// Start-up first: the first runspace of the process is the cold figure.
if (options.Selects(StartupSuite.Name)) new StartupSuite(options, report).Run();
using (var shell = new BenchShell())
{
    if (options.Selects(EnumerationSuite.Name) || options.Filter?.StartsWith("Get-", StringComparison.OrdinalIgnoreCase) == true)
        new EnumerationSuite(options, report, shell).Run();
    if (options.Selects(ServerSuite.Name)) new ServerSuite(options, report, shell).Run();
}
if (options.Selects(CodecSuite.Name)) new CodecSuite(options, report).Run();
if (options.Selects(ProfileSuite.Name)) new ProfileSuite(options, report).Run();
if (options.Selects(DensitySuite.Name)) new DensitySuite(options, report).Run();
if (options.Selects(RelaySuite.Name)) new RelaySuite(options, report).Run();

Console.WriteLine();
Console.WriteLine(report.Table());
var command = "dotnet run -c Release --project bench/VirtTools.Bench" + (args.Length > 0 ? " -- " + string.Join(' ', args) : "");
File.WriteAllText(options.ResultsPath, report.Markdown(command, clock.Elapsed));
Console.WriteLine($"Written {options.ResultsPath} ({clock.Elapsed.TotalSeconds:0} s).");
