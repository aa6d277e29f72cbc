using VirtTools.UsbIp.Containers;

namespace VirtTools.UsbIp.Vhci;

/// <summary>
/// Which controllers an attach may use. Any: every controller, as <c>usbip attach</c> picks (the first free port of
/// the hub in controller order). A container's own controller: the one that already holds that container's devices
/// and no one else's, else a controller with nothing attached, so one container never shares a bus with another
/// (each vhci_hcd.N has root hubs of its own) and never sees another's devices in its bus listing.
/// </summary>
public sealed record VhciPlacement(string? DedicatedTo)
{
    public static VhciPlacement Any { get; } = new((string?)null);

    public static VhciPlacement OwnController(string container) => new(container);

    /// <summary>
    /// The controllers whose free ports of <paramref name="hub"/> this placement allows, in the order to try them;
    /// throws ContainerNoOwnController when a dedicated placement cannot hold.
    /// </summary>
    public IReadOnlyList<int> Controllers(IReadOnlyList<VhciController> controllers, IReadOnlyList<UsbIpPort> ports, VhciHub hub)
    {
        if (DedicatedTo is not { } container) return controllers.Select(c => c.Index).ToList();
        var byController = ports.GroupBy(p => p.ControllerIndex).ToDictionary(g => g.Key, g => g.ToList());
        List<UsbIpPort> Of(VhciController c) => byController.TryGetValue(c.Index, out var list) ? list : new List<UsbIpPort>();
        bool HasFree(VhciController c) => Of(c).Any(p => p.Hub == hub && p.IsFree);
        // A port in use with no record, or a record of another container, belongs to someone else.
        bool Others(VhciController c) => Of(c).Any(p => !p.IsFree && p.Container != container);
        var own = controllers.Where(c => Of(c).Any(p => !p.IsFree && p.Container == container) && !Others(c)).ToList();
        if (own.Count > 0)
            return own.Where(HasFree).Select(c => c.Index).Take(1).ToList() is { Count: > 0 } usable ? usable
                : throw ContainerErrors.NoOwnController(container,
                    $"its controller {own[0].Name} has no free {Describe(hub)} port left.");
        var empty = controllers.Where(c => !Of(c).Any(p => !p.IsFree)).Where(HasFree).Select(c => c.Index).Take(1).ToList();
        return empty.Count > 0 ? empty : throw ContainerErrors.NoOwnController(container,
            $"each of the {controllers.Count} vhci_hcd controllers already holds devices of the host or of another container.");
    }

    private static string Describe(VhciHub hub) => hub == VhciHub.SuperSpeed ? "SuperSpeed (USB 3)" : "high-speed (USB 2)";
}
