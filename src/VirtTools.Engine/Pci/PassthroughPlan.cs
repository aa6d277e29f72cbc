namespace VirtTools.Pci;

/// <summary>
/// Everything a Set- or Remove-PciPassthrough will do, decided after every check passed and before anything is
/// written (by PassthroughPlanner, for PassthroughApplier): the driver moves, the record and modprobe.d file it will write, and what the user should know.
/// </summary>
public sealed class PassthroughPlan
{
    internal PassthroughPlan(PciAddress address, IReadOnlyList<PassthroughMove> moves, IReadOnlyList<PassthroughRecord> recordsAfter,
        IReadOnlyList<string> removedRecords, IReadOnlyDictionary<string, IReadOnlyList<string>> modprobeFiles, IReadOnlyList<string> warnings)
    {
        Address = address;
        Moves = moves;
        RecordsAfter = recordsAfter;
        RemovedRecords = removedRecords;
        ModprobeFiles = modprobeFiles;
        Warnings = warnings;
    }

    /// <summary>The function the user asked for.</summary>
    public PciAddress Address { get; }

    /// <summary>Functions changing driver, in order (the requested one last, after the group members it needs).</summary>
    public IReadOnlyList<PassthroughMove> Moves { get; }

    /// <summary>Records to add or replace in the state file.</summary>
    public IReadOnlyList<PassthroughRecord> RecordsAfter { get; }

    /// <summary>Addresses whose record goes.</summary>
    public IReadOnlyList<string> RemovedRecords { get; }

    /// <summary>modprobe.d files to write, with their full new content; an empty list deletes the file.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ModprobeFiles { get; }

    /// <summary>Things the user should know but that do not stop the change (a forced interlock, shared INTx).</summary>
    public IReadOnlyList<string> Warnings { get; }

    public bool ChangesNothing => Moves.Count == 0 && RecordsAfter.Count == 0 && RemovedRecords.Count == 0 && ModprobeFiles.Count == 0;

    /// <summary>Each write this plan makes, one per line: kernel attributes, then the record, then each modprobe.d line.</summary>
    public IEnumerable<string> Describe()
    {
        foreach (var move in Moves)
        {
            yield return $"{move.Address} ({move.Ids}): {move.FromDriver ?? "no driver"} -> {move.ToDriver ?? "host driver found by reprobing"}";
            foreach (var write in move.Writes) yield return "  " + write;
        }
        foreach (var record in RecordsAfter)
            yield return $"record {record.Address} (original driver {record.OriginalDriver ?? "none"}{(record.Persisted ? ", persisted" : "")}) in {PassthroughStateStore.SystemPath}";
        foreach (var address in RemovedRecords)
            yield return $"remove the record of {address} from {PassthroughStateStore.SystemPath}";
        foreach (var (path, lines) in ModprobeFiles)
        {
            if (lines.Count == 0) { yield return $"delete {path}"; continue; }
            yield return $"write {path}:";
            foreach (var line in lines) yield return "  " + line;
        }
    }
}
