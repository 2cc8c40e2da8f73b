export { ModbusDevice, type ModbusDeviceOptions, type PollHealth } from './modbus-device.js';
export { loadProfile, profileSchema, registerSpecSchema, PROFILES_DIR, type Profile, type RegisterSpec } from './profile.js';
export { decodeRegister, encodeRegister, planReads, MAX_REGISTERS_PER_READ, type ReadPlan } from './registers.js';
