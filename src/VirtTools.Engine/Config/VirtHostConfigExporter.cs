using VirtTools.Ksm;
using VirtTools.Pci;
using VirtTools.Sysfs;
using VirtTools.UsbIp.Vhci;

namespace VirtTools.Config;

/// <summary>
/// This host's current state as a profile: what Export-VirtHostConfig writes, so that syncing it back to the same
/// host finds nothing to do.
/// </summary>
public static class VirtHostConfigExporter
{
    public static VirtHostConfig Capture(SystemRoot root)
    {
        var exports = Exports(root).ToList();
        var attachments = Attachments(root).ToList();
        return new VirtHostConfig
        {
            Root = root.Path,
            UsbIp = exports.Count + attachments.Count == 0 ? null : new UsbIpProfile { Exports = exports, Attachments = attachments },
            PciPassthrough = Passthrough(root).ToList(),
            Ksm = KsmReader.IsAvailable(root) ? Ksm(KsmReader.ReadStats(root)) : null,
        };
    }

    /// <summary>
    /// Devices bound to usbip-host, named by vendor, product and serial so the rule follows the device to a new bus
    /// id after a replug; by bus id when the device has no serial or another device here has the same identity.
    /// </summary>
    private static IEnumerable<UsbIpExportRule> Exports(SystemRoot root)
    {
        var candidates = UsbIpExportDrift.Exportable(root).ToList();
        foreach (var device in candidates.Where(d => d.IsExported))
        {
            var byIdentity = new UsbDeviceMatch { VendorId = device.VendorId, ProductId = device.ProductId, Serial = device.SerialNumber };
            bool unique = device.SerialNumber is not null && device.VendorId is not null && candidates.Count(byIdentity.Matches) == 1;
            yield return new UsbIpExportRule { Match = unique ? byIdentity : new UsbDeviceMatch { BusId = device.BusId } };
        }
    }

    /// <summary>Ports in use with a /run/vhci_hcd record (without one the server is unknown), by remote bus id.</summary>
    private static IEnumerable<UsbIpAttachmentRule> Attachments(SystemRoot root) =>
        new VhciReader(root).GetPorts()
            .Where(p => p.IsInUse && p.RemoteHost is not null && p.RemoteBusId is not null)
            .Select(p => new UsbIpAttachmentRule
            {
                ComputerName = p.RemoteHost!,
                TcpPort = p.RemoteTcpPort ?? UsbIp.Protocol.UsbIpProtocol.DefaultTcpPort,
                Match = new UsbDeviceMatch { BusId = p.RemoteBusId },
                Container = p.Container,
                DedicatedController = p.ContainerDedicatedController,
            });

    private static IEnumerable<PciPassthroughRule> Passthrough(SystemRoot root) =>
        new PciDeviceReader(root).GetDevices()
            .Where(d => d.Driver is PciStubDriver.VfioPci or PciStubDriver.PciStub)
            .Select(d => new PciPassthroughRule { Address = d.Address, Driver = d.Driver! });

    private static KsmSettings Ksm(KsmStats stats) => new()
    {
        Run = stats.Run,
        // With the scan-time advisor on, the kernel owns pages_to_scan: a profile must not fight it.
        PagesToScan = stats.AdvisorMode is null or "none" ? Int(stats.PagesToScan, 1) : null,
        SleepMilliseconds = Int(stats.SleepMilliseconds, 0),
        MaxPageSharing = Int(stats.MaxPageSharing, 2),
        MergeAcrossNodes = stats.MergeAcrossNodes,
        UseZeroPages = stats.UseZeroPages,
        SmartScan = stats.SmartScan,
        AdvisorMode = stats.AdvisorMode,
    };

    /// <summary>A kernel figure the profile can hold (the parser's range); anything else is left out rather than made up.</summary>
    private static int? Int(long? value, int min) => value is long v && v >= min && v <= int.MaxValue ? (int)v : null;
}
