namespace VirtTools.UsbIp;

/// <summary>
/// The ports of one hub of one vhci_hcd controller, counted: what Get-UsbIpPort shows by default instead of a row per
/// port (a Debian kernel has 8 controllers of 15 high-speed and 15 SuperSpeed ports). A port the kernel shows in
/// another state (not assigned, error) counts in <see cref="Ports"/> but neither in use nor free.
/// </summary>
public sealed class UsbIpPortSummary
{
    /// <summary>The controller ("vhci_hcd.0").</summary>
    public required string Controller { get; init; }

    public int ControllerIndex { get; init; }

    /// <summary>The controller's hub: high speed for USB 1 and 2 devices, SuperSpeed for USB 3.</summary>
    public VhciHub Hub { get; init; }

    public int Ports { get; init; }

    public int InUse { get; init; }

    public int Free { get; init; }

    public required string Root { get; init; }

    /// <summary>One summary per controller and hub, in controller order, the high-speed hub first.</summary>
    public static IReadOnlyList<UsbIpPortSummary> Of(IEnumerable<UsbIpPort> ports) =>
        ports.GroupBy(p => (p.ControllerIndex, p.Controller, p.Hub))
            .OrderBy(g => g.Key.ControllerIndex).ThenBy(g => g.Key.Hub)
            .Select(g => new UsbIpPortSummary
            {
                Controller = g.Key.Controller,
                ControllerIndex = g.Key.ControllerIndex,
                Hub = g.Key.Hub,
                Ports = g.Count(),
                InUse = g.Count(p => p.IsInUse),
                Free = g.Count(p => p.IsFree),
                Root = g.First().Root,
            })
            .ToList();

    public override string ToString() => $"{Controller} {Hub}: {InUse} of {Ports} in use";
}
