-- Applied with msibuild after wixl, one statement per line: what wixl 0.101
-- cannot express. packaging/check.sh reads each of these back from the MSI.
--
-- Restart on failure (Windows Installer 5.0 table; wixl has no
-- ServiceConfigFailureActions element): restart after 5 s, 15 s, then every
-- 60 s; the count resets after a day without failure. The service control
-- manager applies these when the process ends without reporting a stop (a
-- crash); `sc.exe failureflag otelcol-intune 1` extends them to a stop with
-- an error (README, Install).
CREATE TABLE `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL LOCALIZABLE, `Event` SHORT NOT NULL, `ResetPeriod` LONG, `RebootMessage` CHAR(255) LOCALIZABLE, `Command` CHAR(255) LOCALIZABLE, `Actions` CHAR(255), `DelayActions` CHAR(255), `Component_` CHAR(72) NOT NULL PRIMARY KEY `MsiServiceConfigFailureActions`)
INSERT INTO `MsiServiceConfigFailureActions` (`MsiServiceConfigFailureActions`, `Name`, `Event`, `ResetPeriod`, `Actions`, `DelayActions`, `Component_`) VALUES ('RestartOnFailure', 'otelcol-intune', 5, 86400, '1[~]1[~]1', '5000[~]15000[~]60000', 'Service')
INSERT INTO `InstallExecuteSequence` (`Action`, `Condition`, `Sequence`) VALUES ('MsiConfigureServices', 'VersionNT >= 601', 5850)
--
-- Upgrades remove the old version before installing the new one (wixl puts
-- RemoveExistingProducts after InstallFinalize): the binaries are always
-- replaced, and the permanent components below are what survives.
UPDATE `InstallExecuteSequence` SET `Sequence` = 1401 WHERE `Action` = 'RemoveExistingProducts'
--
-- 272 = 64-bit (256) + permanent (16): the state and exports folders stay
-- after an uninstall.
UPDATE `Component` SET `Attributes` = 272 WHERE `Component` = 'StateDir'
UPDATE `Component` SET `Attributes` = 272 WHERE `Component` = 'ExportsDir'
--
-- The service is started at the end of the install only when asked for or
-- when its settings are there (start-sequence.wxi).
UPDATE `Component` SET `Condition` = 'START_SERVICE="1"' WHERE `Component` = 'ServiceStart'
