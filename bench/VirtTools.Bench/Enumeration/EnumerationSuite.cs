using System.Globalization;

namespace VirtTools.Bench.Enumeration;

/// <summary>
/// Get-UsbDevice, Get-UsbIpPort and Get-PciDevice on synthetic trees of 100, 1,000 and 10,000 items, against the
/// floor (<see cref="Floors"/>) and the PowerShell loop an admin would write (AdminLoops/*.ps1).
/// </summary>
public sealed class EnumerationSuite : BenchSuite
{
    public const string Name = "enumeration";
    public const double Target = 1.5;

    private sealed record Subject(string Cmdlet, string Unit, string TreeOf, string Script, Func<string, FloorReader, int> Floor, string AdminLoop, Func<string, int, string> Tree);

    private readonly BenchShell _shell;

    public EnumerationSuite(BenchOptions options, Report report, BenchShell shell) : base(options, report) => _shell = shell;

    public override void Run()
    {
        var sizes = Options.Quick ? new[] { 100, 1_000 } : new[] { 100, 1_000, 10_000 };
        // What any cmdlet call through the hosted runspace costs before it reads a file.
        var empty = Timing.Measure(() => _shell.Count("param($Root) $null", BenchShell.Args(("Root", "/"))), 50, warmups: 5);
        Report.Add(new Row(Name, "fixed cost: an empty script through the hosted runspace", Timing.Milliseconds(empty.Median), "", "",
            "paid once per call; it dominates listings of a few items"));
        var subjects = new[]
        {
            new Subject("Get-UsbDevice", "device", "USB devices", "param($Root) Get-UsbDevice -Root $Root -IncludeHub", Floors.UsbDevices, "UsbDevices.ps1", TreeCache.Usb),
            new Subject("Get-UsbIpPort", "vhci port", "USB devices", "param($Root) Get-UsbIpPort -Root $Root -All", Floors.UsbIpPorts, "UsbIpPorts.ps1", TreeCache.Usb),
            new Subject("Get-PciDevice", "function", "PCI functions", "param($Root) Get-PciDevice -Root $Root", Floors.PciDevices, "PciDevices.ps1", TreeCache.Pci),
        };
        foreach (var subject in subjects.Where(s => Options.Selects(Name, s.Cmdlet)))
        {
            bool available = IsAvailable(subject.Cmdlet);
            var perItem = new List<(int Size, int Items, double Micro, double Milliseconds)>();
            foreach (var size in sizes) perItem.Add(Measure(subject, size, available));
            if (!available) continue;
            var growth = string.Join(" / ", perItem.Select(p => Timing.Microseconds(p.Micro)));
            var first = perItem[0]; var last = perItem[^1];
            double marginal = (last.Milliseconds - first.Milliseconds) * 1000 / (last.Items - first.Items);
            Report.Add(new Row(Name, $"{subject.Cmdlet} growth", $"per {subject.Unit}: {growth}; marginal {Timing.Microseconds(marginal)}",
                $"trees of {string.Join(" / ", perItem.Select(p => p.Size.ToString("N0", CultureInfo.InvariantCulture)))} {subject.TreeOf}",
                $"{Timing.Ratio(last.Micro / first.Micro)} per-item cost, {last.Size / first.Size}× the size",
                last.Micro / first.Micro <= 1.3 ? "linear" : "grows faster than linear"));
        }
    }

    private bool IsAvailable(string cmdlet) => _shell.Run($"[bool](Get-Command {cmdlet} -ErrorAction SilentlyContinue)")[0].BaseObject is true;

    /// <summary>Times the cmdlet (when it is merged), the floor and the admin loop on one tree.</summary>
    private (int Size, int Items, double Micro, double Milliseconds) Measure(Subject subject, int size, bool available)
    {
        var root = subject.Tree(Options.WorkFolder, size);
        int runs = Options.Quick ? 3 : size switch { <= 100 => 15, <= 1_000 => 7, _ => 3 };
        var arguments = BenchShell.Args(("Root", root));
        var adminScript = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "AdminLoops", subject.AdminLoop));

        int items = Floors.Count(subject.Floor, root);
        int cmdletItems = available ? _shell.Count(subject.Script, arguments) : items;
        int loopItems = _shell.Count(adminScript, arguments);
        if (cmdletItems != items || loopItems != items)
            Report.Note($"{subject.Cmdlet} on {size:N0}: the cmdlet output {cmdletItems} objects, the admin loop {loopItems}, the floor found {items}.");

        var floor = Timing.Measure(() => subject.Floor(root, new FloorReader()), runs);
        var loop = Timing.Measure(() => _shell.Count(adminScript, arguments), Math.Min(runs, size >= 10_000 ? 2 : 5), warmups: 0);
        if (!available)
        {
            Report.Add(new Row(Name, $"{subject.Cmdlet}, tree of {size:N0} {subject.TreeOf} ({items:N0} {subject.Unit}s)", "not merged yet",
                $"floor {Timing.Milliseconds(floor.Median)}; admin loop {Timing.Milliseconds(loop.Median)}", "", "rerun after the merge"));
            return (size, items, double.NaN, double.NaN);
        }
        var cmdlet = Timing.Measure(() => _shell.Count(subject.Script, arguments), runs);
        double ratio = cmdlet.Median / floor.Median, speedUp = loop.Median / cmdlet.Median, micro = cmdlet.Median * 1000 / items;
        Report.Add(new Row(Name, $"{subject.Cmdlet}, tree of {size:N0} {subject.TreeOf} ({items:N0} {subject.Unit}s)",
            $"{Timing.Milliseconds(cmdlet.Median)} ({Timing.Microseconds(micro)}/{subject.Unit})",
            $"floor {Timing.Milliseconds(floor.Median)}; admin loop {Timing.Milliseconds(loop.Median)}",
            $"{Timing.Ratio(ratio)} floor; {Timing.Ratio(speedUp)} faster than the loop",
            ratio <= Target ? $"within {Target}× target" : $"misses the {Target}× target"));
        return (size, items, micro, cmdlet.Median);
    }
}
