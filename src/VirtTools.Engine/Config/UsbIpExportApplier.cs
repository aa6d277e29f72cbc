using VirtTools.Sysfs;
using VirtTools.Usb;
using VirtTools.UsbIp.Host;

namespace VirtTools.Config;

/// <summary>A profile's export applied the way Export-UsbIpDevice does it: the same exporter, checks and rollback.</summary>
public sealed class UsbIpExportApplier : IUsbIpExportApplier
{
    public void Export(SystemRoot root, UsbBusId busId, CancellationToken cancellation) =>
        ApplierBoundary.Run($"Exporting {busId}", busId, cancellation, () =>
        {
            var exporter = new UsbIpExporter(root);
            exporter.Export(exporter.PlanExport(busId));
        });
}
