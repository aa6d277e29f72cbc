using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Pci;
using VirtTools.Sysfs;

namespace VirtTools.Commands;

/// <summary>Lists PCI functions from sysfs, with names, interrupts, IOMMU group and driver.</summary>
[Cmdlet(VerbsCommon.Get, "PciDevice")]
[OutputType(typeof(PciDevice))]
public sealed class GetPciDeviceCommand : VirtToolsCmdlet
{
    private string[] _vendorIds = Array.Empty<string>();
    private string[] _deviceIds = Array.Empty<string>();

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    public string[]? Address { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? VendorId { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? DeviceId { get; set; }

    /// <summary>Class code prefixes ("0x0200", "0c03") or wildcard patterns on the class name ("*Ethernet*").</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Class { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PciDriverCompleter))]
    public string[]? Driver { get; set; }

    private string? _filtersCheckedFor;

    protected override void BeginProcessing()
    {
        RequireRoot();
        _vendorIds = NormalizeIds(nameof(VendorId), VendorId);
        _deviceIds = NormalizeIds(nameof(DeviceId), DeviceId);
    }

    protected override void ProcessRecord()
    {
        // -Root can arrive with each piped object, and the class names and drivers are the root's.
        var reader = new PciDeviceReader(SystemRoot);
        if (_filtersCheckedFor != SystemRoot.Path) CheckFilters(reader);
        var drivers = new Wildcards(Driver);
        var selected = new PciAddressSelection(Address).Select(reader.GetDevices(), (failure, input) => WriteFailure(failure, input));
        foreach (var device in selected.Where(d =>
                     (_vendorIds.Length == 0 || _vendorIds.Contains(d.VendorId))
                     && (_deviceIds.Length == 0 || _deviceIds.Contains(d.DeviceId))
                     && (Class is null || Class.Any(c => MatchesClass(reader, d, c)))
                     && (Driver is null || drivers.Matches(d.Driver))))
        {
            WarnIfNamesMissing(device.NameSource, "pci.ids");
            WriteObject(device);
        }
    }

    /// <summary>A class that is no code and no name is an error; a driver nobody registered, a warning.</summary>
    private void CheckFilters(PciDeviceReader reader)
    {
        _filtersCheckedFor = SystemRoot.Path;
        foreach (var filter in Wildcards.Literals(Class))
            if (!PciClassCode.TryParsePrefix(filter, out _) && reader.Names?.HasClassNamed(filter) != true)
                ThrowFailure(PciErrors.ClassInvalid(filter, reader.Names?.SourcePath), filter);
        var registered = reader.DriverNames();
        foreach (var driver in Wildcards.Literals(Driver).Where(d => !registered.Contains(d, StringComparer.Ordinal)))
            WriteWarning(PciErrors.NoSuchDriver(driver));
    }

    // A name filter matches any of the class's names, so 'Network controller' finds Ethernet controllers too.
    private static bool MatchesClass(PciDeviceReader reader, PciDevice device, string filter) =>
        PciClassCode.TryParsePrefix(filter, out var prefix)
            ? PciClassCode.MatchesPrefix(device.ClassCode, prefix)
            : reader.ClassNames(device).Any(new Wildcards(new[] { filter }).Matches);

    private string[] NormalizeIds(string parameter, string[]? ids) => (ids ?? Array.Empty<string>()).Select(id =>
    {
        var normalized = SysfsText.NormalizeId(id);
        if (normalized is null) ThrowFailure(PciErrors.IdInvalid(parameter, id), id);
        return normalized!;
    }).ToArray();
}
