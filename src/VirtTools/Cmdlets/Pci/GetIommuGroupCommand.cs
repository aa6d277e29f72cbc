using System.Management.Automation;
using VirtTools.Commands.Completion;
using VirtTools.Pci;

namespace VirtTools.Commands;

/// <summary>IOMMU groups, their members, and whether vfio can use them as they are bound now.</summary>
[Cmdlet(VerbsCommon.Get, "IommuGroup")]
[OutputType(typeof(IommuGroup))]
public sealed class GetIommuGroupCommand : VirtToolsCmdlet
{
    // Groups written so far, and roots already warned about: piped functions often share a group.
    private readonly HashSet<(string Root, int Group)> _written = new();
    private readonly HashSet<string> _warnedRoots = new();

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IommuGroupCompleter))]
    public int[]? Group { get; set; }

    /// <summary>The groups of these functions.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PciAddressCompleter))]
    public string[]? Address { get; set; }

    protected override void BeginProcessing() => RequireRoot();

    protected override void ProcessRecord()
    {
        var reader = new IommuGroupReader(SystemRoot);
        var numbers = reader.GroupNumbers();
        if (numbers.Count == 0)
        {
            if (_warnedRoots.Add(SystemRoot.Path)) WriteWarning(PciErrors.IommuOffWarning);
            return;
        }
        foreach (var group in Wanted(reader, numbers))
            if (_written.Add((group.Root, group.Group))) WriteObject(group);
    }

    private IEnumerable<IommuGroup> Wanted(IommuGroupReader reader, IReadOnlyList<int> numbers)
    {
        if (Group is null && Address is null) return reader.GetGroups();
        var wanted = new SortedSet<int>();
        foreach (var number in Group ?? Array.Empty<int>())
        {
            if (numbers.Contains(number)) wanted.Add(number);
            else WriteFailure(PciErrors.IommuGroupNotFound(number, $"IOMMU group {number} does not exist."), number);
        }
        if (Address is not null)
        {
            var devices = new PciAddressSelection(Address).Select(new PciDeviceReader(SystemRoot).GetDevices(), (failure, input) => WriteFailure(failure, input));
            foreach (var device in devices)
            {
                if (device.IommuGroup is int number) wanted.Add(number);
                else WriteFailure(PciErrors.IommuGroupNotFound(device.Address, $"{device.Address} is in no IOMMU group: the IOMMU does not cover it."), device.Address);
            }
        }
        return wanted.Select(reader.Find).OfType<IommuGroup>();
    }
}
