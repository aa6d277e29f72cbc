namespace VirtTools.Pci;

/// <summary>Whether a function can be passed through with vfio, check by check (Test-PciPassthrough).</summary>
public sealed class PciPassthroughReadiness
{
    /// <summary>The function, so the object pipes into Set-PciPassthrough by property name.</summary>
    public required PciAddress Address { get; init; }

    public required PciReadinessVerdict Verdict { get; init; }

    public required PciReadinessFinding[] Findings { get; init; }

    public required string Root { get; init; }

    /// <summary>The verdict a set of findings earns: any Fail blocks; any Warn or Unknown leaves it short of Ready.</summary>
    public static PciReadinessVerdict VerdictOf(IEnumerable<PciReadinessFinding> findings)
    {
        var results = findings.Select(f => f.Result).ToList();
        if (results.Contains(PciReadinessResult.Fail)) return PciReadinessVerdict.Blocked;
        return results.All(r => r == PciReadinessResult.Pass) ? PciReadinessVerdict.Ready : PciReadinessVerdict.Warning;
    }

    public override string ToString() => $"{Address}: {Verdict}";
}
